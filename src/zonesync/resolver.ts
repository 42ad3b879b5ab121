/**
 * zone-sync-resolver-addresses: a comma-separated list of DNS servers for nginx's `resolver` directive.
 * Each entry is an IPv4 address, an IPv6 address (bare, or in brackets so it can carry a port) or a host name,
 * optionally followed by `:port`.
 */
import { isIPv4, isIPv6 } from "node:net";
import { z } from "zod";
import type { ValueSchema } from "./values.ts";

export interface ResolverAddress {
  kind: "ipv4" | "ipv6" | "hostname";
  /** The address or name, without brackets; lowercase. */
  host: string;
  port?: number;
}

export const RESOLVER_ADDRESSES_ALLOWED =
  "a comma-separated list of IPv4 addresses, IPv6 addresses ([v6] with a port) or host names, each with an optional :port from 1 to 65535";

const HOST_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function isHostName(value: string): boolean {
  if (value.length > 253 || /^[0-9.]+$/.test(value)) return false; // all digits and dots: a broken IPv4 address
  return value.split(".").every((label) => HOST_LABEL.test(label));
}

function parsePort(text: string): number | undefined {
  const n = /^[0-9]{1,5}$/.test(text) ? Number(text) : 0;
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** Parses one list entry, or returns the reason it is not one. */
export function parseResolverAddress(entry: string): ResolverAddress | { problem: string } {
  const quoted = JSON.stringify(entry);
  if (entry === "") return { problem: "an empty entry" };
  const lower = entry.toLowerCase();

  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(lower);
  if (bracketed) {
    const [, host = "", portText] = bracketed;
    if (!isIPv6(host) || host.includes("%")) return { problem: `${quoted} is not an IPv6 address in brackets` };
    if (portText === undefined) return { kind: "ipv6", host };
    const port = parsePort(portText);
    return port === undefined ? { problem: `${quoted} has an invalid port` } : { kind: "ipv6", host, port };
  }
  if (lower.includes(":") && lower.indexOf(":") !== lower.lastIndexOf(":")) {
    // Two or more colons: a bare IPv6 address, which cannot carry a port.
    if (isIPv6(lower) && !lower.includes("%")) return { kind: "ipv6", host: lower };
    return { problem: `${quoted} is not an IPv6 address (write [address]:port to give a port)` };
  }

  const colon = lower.indexOf(":");
  const host = colon === -1 ? lower : lower.slice(0, colon);
  let port: number | undefined;
  if (colon !== -1) {
    port = parsePort(lower.slice(colon + 1));
    if (port === undefined) return { problem: `${quoted} has an invalid port` };
  }
  const withPort = port === undefined ? {} : { port };
  if (isIPv4(host)) return { kind: "ipv4", host, ...withPort };
  if (/^[0-9.]+$/.test(host)) return { problem: `${quoted} is not an IPv4 address` };
  if (isHostName(host)) return { kind: "hostname", host, ...withPort };
  return { problem: `${quoted} is not an IP address or host name` };
}

/** The list, split on commas with whitespace around entries ignored. Every bad entry is named in one issue. */
export const resolverAddressesValue: ValueSchema<ResolverAddress[]> = z.string().transform((value, ctx) => {
  const entries = value.split(",").map((entry) => entry.trim());
  const addresses: ResolverAddress[] = [];
  const problems: string[] = [];
  entries.forEach((entry, index) => {
    const parsed = parseResolverAddress(entry);
    if ("problem" in parsed) problems.push(`entry ${index + 1}: ${parsed.problem}`);
    else addresses.push(parsed);
  });
  if (problems.length === 0) return addresses;
  ctx.addIssue({ code: "custom", message: `is not a valid resolver list (${problems.join("; ")})` });
  return z.NEVER;
});

/** The entry as nginx's `resolver` directive wants it: IPv6 addresses always in brackets. */
export function formatResolverAddress(address: ResolverAddress): string {
  const host = address.kind === "ipv6" ? `[${address.host}]` : address.host;
  return address.port === undefined ? host : `${host}:${address.port}`;
}
