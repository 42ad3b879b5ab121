import { describe, expect, it } from "vitest";
import { cidrBlockList, classifyAddress, inBlockList, ipv6Bytes, mappedIPv4 } from "./addresses.ts";

describe("classifyAddress", () => {
  it.each([
    ["10.0.0.1", "IPv4", "ok"],
    ["240.0.0.1", "IPv4", "ok"], // class E: some clusters use it as private space
    ["127.0.0.1", "IPv4", "loopback"],
    ["127.255.255.254", "IPv4", "loopback"],
    ["169.254.169.254", "IPv4", "linkLocal"],
    ["169.254.0.1", "IPv4", "linkLocal"],
    ["0.0.0.0", "IPv4", "unspecified"],
    ["0.1.2.3", "IPv4", "unspecified"],
    ["224.0.0.1", "IPv4", "multicast"],
    ["239.255.255.255", "IPv4", "multicast"],
    ["255.255.255.255", "IPv4", "broadcast"],
    ["fd00::1", "IPv4", "wrongFamily"],
    ["10.0.0.1/32", "IPv4", "invalid"],
    ["010.0.0.1", "IPv4", "invalid"],
    ["0x7f.0.0.1", "IPv4", "invalid"],
    ["10.0.0.1 ", "IPv4", "invalid"],
    ["", "IPv4", "invalid"],
    ["2001:db8::1", "IPv6", "ok"],
    ["::1", "IPv6", "loopback"],
    ["::", "IPv6", "unspecified"],
    ["fe80::1", "IPv6", "linkLocal"],
    ["febf:ffff::1", "IPv6", "linkLocal"],
    ["ff02::1", "IPv6", "multicast"],
    ["::ffff:127.0.0.1", "IPv6", "loopback"],
    ["::ffff:7f00:1", "IPv6", "loopback"],
    ["0:0:0:0:0:ffff:a9fe:a9fe", "IPv6", "linkLocal"],
    ["::ffff:0.0.0.0", "IPv6", "unspecified"],
    ["::ffff:224.0.0.1", "IPv6", "multicast"],
    ["::ffff:255.255.255.255", "IPv6", "broadcast"],
    ["::ffff:10.0.0.1", "IPv6", "wrongFamily"],
    ["10.0.0.1", "IPv6", "wrongFamily"],
    ["fe80::1%eth0", "IPv6", "invalid"],
    ["1::2::3", "IPv6", "invalid"],
    [`${"1:".repeat(7)}1${" ".repeat(100)}`, "IPv6", "invalid"],
  ] as const)("%s in an %s slice: %s", (address, family, verdict) => {
    expect(classifyAddress(address, family)).toBe(verdict);
  });
});

describe("IPv6 bytes", () => {
  it("expands every textual form", () => {
    expect([...ipv6Bytes("::")]).toEqual(Array(16).fill(0));
    expect([...ipv6Bytes("1:2:3:4:5:6:1.2.3.4")]).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4]);
    expect([...ipv6Bytes("fe80::1")]).toEqual([0xfe, 0x80, ...Array(13).fill(0), 1]);
    expect(mappedIPv4("::ffff:1.2.3.4")).toBe("1.2.3.4");
    expect(mappedIPv4("::ffff:0102:0304")).toBe("1.2.3.4");
    expect(mappedIPv4("::1.2.3.4")).toBeUndefined();
    expect(mappedIPv4("1::ffff:1.2.3.4")).toBeUndefined();
  });
});

describe("CIDR deny lists", () => {
  it("matches addresses of either family in the listed ranges only", () => {
    const list = cidrBlockList(["10.96.0.0/12", "fd00:10::/32", "192.168.1.7/32"]);
    expect(inBlockList(list, "10.100.1.1", "IPv4")).toBe(true);
    expect(inBlockList(list, "10.112.0.1", "IPv4")).toBe(false);
    expect(inBlockList(list, "192.168.1.7", "IPv4")).toBe(true);
    expect(inBlockList(list, "192.168.1.8", "IPv4")).toBe(false);
    expect(inBlockList(list, "fd00:10:ffff::1", "IPv6")).toBe(true);
    expect(inBlockList(list, "fd00:11::1", "IPv6")).toBe(false);
  });

  it("refuses what is not a CIDR", () => {
    expect(() => cidrBlockList(["10.0.0.0"])).toThrow('"10.0.0.0" is not a CIDR');
    expect(() => cidrBlockList(["10.0.0.0/33"])).toThrow("prefix length must be 0-32");
    expect(() => cidrBlockList(["10.0.0.0/08"])).toThrow("prefix length must be 0-32");
  });
});
