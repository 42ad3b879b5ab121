import { isIPv4, isIPv6 } from "node:net";

/** IP address and CIDR syntax, shared by the link spec's validation (excludeCIDRs) and the mirror's filters. */

export type AddressFamily = "IPv4" | "IPv6";

/** The longest textual IPv6 address (with an embedded dotted quad) is 45 characters. */
const MAX_ADDRESS_LENGTH = 45;

/** A canonical dotted quad: node:net's isIPv4 takes no leading zeros, octal or hex parts, or prefix length. */
export const isIPv4Address = (s: string): boolean => s.length <= 15 && isIPv4(s);
/** A valid IPv6 address: node:net's syntax, without a zone index (`fe80::1%eth0` names an interface here). */
export const isIPv6Address = (s: string): boolean => s.length <= MAX_ADDRESS_LENGTH && !s.includes("%") && isIPv6(s);

export interface Cidr {
  address: string;
  prefix: number;
  family: AddressFamily;
}

/** Parses `address/prefix`; returns a message when it is not a CIDR. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf("/");
  if (text.length > 49) return "is not a CIDR (too long)";
  if (slash < 0) return `"${text}" is not a CIDR (address/prefix, e.g. "10.0.0.0/8" or "fd00::/8")`;
  const address = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const family: AddressFamily | undefined = isIPv4Address(address)
    ? "IPv4"
    : isIPv6Address(address)
      ? "IPv6"
      : undefined;
  if (!family) return `"${text}" is not a CIDR: "${address}" is not an IPv4 or IPv6 address`;
  const max = family === "IPv4" ? 32 : 128;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > max) {
    return `"${text}" is not a CIDR: the prefix length must be 0-${max}`;
  }
  return { address, prefix: Number(prefixText), family };
}
