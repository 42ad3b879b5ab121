import { BlockList } from "node:net";
import { isIPv4Address, isIPv6Address, parseCidr, type AddressFamily } from "../api/ip.ts";
import type { DropReason } from "./drops.ts";

/**
 * Endpoint addresses from the target, held to the slice's addressType and filtered of the ranges a mirror must never
 * point at: a remote endpoint of 127.0.0.1 or 169.254.169.254 would make local clients talk to their own node or
 * its cloud metadata service. Parsing is node:net's (isIPv4 takes only canonical dotted quads: no leading zeros, no
 * octal or hex parts, no prefix length); ranges are node:net BlockLists.
 */

export type { AddressFamily } from "../api/ip.ts";
export type AddressVerdict = "ok" | Extract<DropReason, SpecialReason | "wrongFamily" | "invalid">;
type SpecialReason = "loopback" | "linkLocal" | "unspecified" | "multicast" | "broadcast";

const SPECIAL_RANGES: Array<[SpecialReason, string, number, "ipv4" | "ipv6"]> = [
  ["unspecified", "0.0.0.0", 8, "ipv4"], // "this network": never a destination
  ["loopback", "127.0.0.0", 8, "ipv4"],
  ["linkLocal", "169.254.0.0", 16, "ipv4"], // incl. 169.254.169.254, the cloud metadata service
  ["multicast", "224.0.0.0", 4, "ipv4"],
  ["broadcast", "255.255.255.255", 32, "ipv4"],
  ["unspecified", "::", 128, "ipv6"],
  ["loopback", "::1", 128, "ipv6"],
  ["linkLocal", "fe80::", 10, "ipv6"],
  ["multicast", "ff00::", 8, "ipv6"],
];

const SPECIAL = new Map<SpecialReason, BlockList>();
for (const [reason, network, prefix, type] of SPECIAL_RANGES) {
  let list = SPECIAL.get(reason);
  if (!list) SPECIAL.set(reason, (list = new BlockList()));
  list.addSubnet(network, prefix, type);
}

function special(address: string, type: "ipv4" | "ipv6"): SpecialReason | undefined {
  for (const [reason, list] of SPECIAL) if (list.check(address, type)) return reason;
  return undefined;
}

/** The 16 bytes of a valid IPv6 address (see isIPv6Address). */
export function ipv6Bytes(address: string): Uint8Array {
  let text = address;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".", lastColon)) {
    // An embedded dotted quad is the last 32 bits.
    const q = text
      .slice(lastColon + 1)
      .split(".")
      .map(Number);
    tail = [(q[0]! << 8) | q[1]!, (q[2]! << 8) | q[3]!];
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith("::")) text = text.slice(0, -1);
  }
  const [head = "", rest] = text.split("::");
  const groups = (s: string): number[] => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const zeros = Array<number>(Math.max(0, 8 - left.length - right.length - tail.length)).fill(0);
  const bytes = new Uint8Array(16);
  [...left, ...zeros, ...right, ...tail].slice(0, 8).forEach((word, i) => {
    bytes[i * 2] = word >> 8;
    bytes[i * 2 + 1] = word & 0xff;
  });
  return bytes;
}

/** The IPv4 address of an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, `::ffff:7f00:1`), if it is one. */
export function mappedIPv4(address: string): string | undefined {
  const b = ipv6Bytes(address);
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return undefined;
  if (b[10] !== 0xff || b[11] !== 0xff) return undefined;
  return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
}

/**
 * What to do with one address of a slice of `family`: "ok", or why it is dropped. An IPv4-mapped IPv6 address is
 * judged by its IPv4 address (`::ffff:127.0.0.1` is loopback) and otherwise has the wrong family: Kubernetes refuses
 * it in an IPv6 slice, and it would reach an IPv4 destination.
 */
export function classifyAddress(address: string, family: AddressFamily): AddressVerdict {
  if (family === "IPv4") {
    if (isIPv4Address(address)) return special(address, "ipv4") ?? "ok";
    return isIPv6Address(address) ? "wrongFamily" : "invalid";
  }
  if (!isIPv6Address(address)) return isIPv4Address(address) ? "wrongFamily" : "invalid";
  const mapped = mappedIPv4(address);
  if (mapped !== undefined) return special(mapped, "ipv4") ?? "wrongFamily";
  return special(address, "ipv6") ?? "ok";
}

/** A BlockList of CIDRs (addresses are masked to their prefix). Throws on the first one that does not parse. */
export function cidrBlockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const text of cidrs) {
    const cidr = parseCidr(text);
    if (typeof cidr === "string") throw new Error(cidr);
    try {
      list.addSubnet(cidr.address, cidr.prefix, cidr.family === "IPv4" ? "ipv4" : "ipv6");
    } catch (err) {
      throw new Error(`cannot use the CIDR "${text}"`, { cause: err });
    }
  }
  return list;
}

/** True when a valid address of `family` is in the list. */
export function inBlockList(list: BlockList, address: string, family: AddressFamily): boolean {
  return list.check(address, family === "IPv4" ? "ipv4" : "ipv6");
}
