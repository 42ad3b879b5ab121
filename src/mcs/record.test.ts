import { describe, expect, it } from "vitest";
import { decodeRecord, encodeRecord, type ExportRecord, MAX_RECORD_BYTES } from "./record.ts";

const RECORD: ExportRecord = {
  created: "2024-05-01T10:00:00Z",
  type: "ClusterSetIP",
  ports: [
    { name: "http", protocol: "TCP", port: 80, appProtocol: "kubernetes.io/h2c" },
    { name: "dns", protocol: "UDP", port: 53 },
  ],
  sessionAffinity: "ClientIP",
  sessionAffinityTimeoutSeconds: 600,
  ipFamilies: ["IPv4", "IPv6"],
};

/** The record as plain JSON with `changes` applied (a key set to undefined is removed). */
function json(changes: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...RECORD, ...changes });
}

function problemOf(text: string | undefined): string {
  const decoded = decodeRecord(text);
  if (!("problem" in decoded)) throw new Error(`expected a problem, decoded ${JSON.stringify(decoded.record)}`);
  return decoded.problem;
}

describe("encodeRecord / decodeRecord", () => {
  it("round-trips a full record", () => {
    expect(decodeRecord(encodeRecord(RECORD))).toEqual({ record: RECORD });
  });

  it("round-trips a minimal record (optional fields absent, no ports)", () => {
    const minimal: ExportRecord = {
      created: "2024-05-01T10:00:00Z",
      type: "Headless",
      ports: [],
      sessionAffinity: "None",
    };
    expect(decodeRecord(encodeRecord(minimal))).toEqual({ record: minimal });
  });

  it("accepts a creation time with an offset and with fractions", () => {
    for (const created of ["2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00.123Z"]) {
      expect(decodeRecord(json({ created }))).toEqual({ record: { ...RECORD, created } });
    }
  });

  it("is canonical: the same record with keys in another order encodes the same", () => {
    const reordered: ExportRecord = {
      ipFamilies: ["IPv4", "IPv6"],
      sessionAffinityTimeoutSeconds: 600,
      sessionAffinity: "ClientIP",
      ports: [
        { appProtocol: "kubernetes.io/h2c", port: 80, protocol: "TCP", name: "http" },
        { port: 53, protocol: "UDP", name: "dns" },
      ],
      type: "ClusterSetIP",
      created: "2024-05-01T10:00:00Z",
    };
    expect(encodeRecord(reordered)).toBe(encodeRecord(RECORD));
    // Keys sorted at every level, no whitespace.
    expect(encodeRecord(RECORD)).toBe(
      '{"created":"2024-05-01T10:00:00Z","ipFamilies":["IPv4","IPv6"],' +
        '"ports":[{"appProtocol":"kubernetes.io/h2c","name":"http","port":80,"protocol":"TCP"},' +
        '{"name":"dns","port":53,"protocol":"UDP"}],' +
        '"sessionAffinity":"ClientIP","sessionAffinityTimeoutSeconds":600,"type":"ClusterSetIP"}',
    );
  });

  it("keeps the order of ports (it is part of the record)", () => {
    const swapped = { ...RECORD, ports: [RECORD.ports[1]!, RECORD.ports[0]!] };
    expect(encodeRecord(swapped)).not.toBe(encodeRecord(RECORD));
  });
});

describe("decodeRecord rejects what it cannot trust", () => {
  it("a missing record", () => {
    expect(problemOf(undefined)).toBe("it has no export record");
  });

  it.each(["", "{", "not json", "{'created': 1}"])("text that is not JSON: %j", (text) => {
    expect(problemOf(text)).toBe("its export record is not JSON");
  });

  it.each([
    ["null", "null"],
    ["an array", "[]"],
    ["a string", '"record"'],
    ["a number", "42"],
  ])("JSON that is not an object: %s", (_what, text) => {
    expect(problemOf(text)).toMatch(/^invalid export record: /);
  });

  it("a record over MAX_RECORD_BYTES, without parsing or echoing it", () => {
    const padded = json({ pad: "x".repeat(MAX_RECORD_BYTES) });
    expect(problemOf(padded)).toBe(`its export record is over ${MAX_RECORD_BYTES} bytes`);
    // Over the limit even when it would be valid JSON of a valid record: whitespace counts.
    const spaced = `${" ".repeat(MAX_RECORD_BYTES)}${json()}`;
    expect(problemOf(spaced)).toBe(`its export record is over ${MAX_RECORD_BYTES} bytes`);
  });

  it("accepts a record of exactly MAX_RECORD_BYTES", () => {
    const text = json();
    const atLimit = `${text}${" ".repeat(MAX_RECORD_BYTES - text.length)}`;
    expect(atLimit).toHaveLength(MAX_RECORD_BYTES);
    expect(decodeRecord(atLimit)).toEqual({ record: RECORD });
  });

  it.each([
    ["created is not a timestamp", { created: "yesterday" }, "created"],
    ["created is a number", { created: 1714557600 }, "created"],
    ["created has no time zone", { created: "2024-05-01T10:00:00" }, "created"],
    ["created is missing", { created: undefined }, "created"],
    ["type is missing", { type: undefined }, "type"],
    ["ports is missing", { ports: undefined }, "ports"],
    ["ports is an object", { ports: { http: 80 } }, "ports"],
    ["sessionAffinity is missing", { sessionAffinity: undefined }, "sessionAffinity"],
    ["the timeout is a string", { sessionAffinityTimeoutSeconds: "600" }, "sessionAffinityTimeoutSeconds"],
    ["the timeout is 0", { sessionAffinityTimeoutSeconds: 0 }, "sessionAffinityTimeoutSeconds"],
    ["the timeout is over a day", { sessionAffinityTimeoutSeconds: 86_401 }, "sessionAffinityTimeoutSeconds"],
    ["the timeout is fractional", { sessionAffinityTimeoutSeconds: 1.5 }, "sessionAffinityTimeoutSeconds"],
    ["ipFamilies is a string", { ipFamilies: "IPv4" }, "ipFamilies"],
    ["ipFamilies has three entries", { ipFamilies: ["IPv4", "IPv6", "IPv4"] }, "ipFamilies"],
  ])("wrong types and values: %s", (_what, changes, path) => {
    expect(problemOf(json(changes))).toMatch(new RegExp(`^invalid export record: ${path}: `));
  });

  it.each([
    ["type", { type: "ClusterIP" }, "type"],
    ["type in other case", { type: "headless" }, "type"],
    ["sessionAffinity", { sessionAffinity: "Cookie" }, "sessionAffinity"],
    ["an IP family", { ipFamilies: ["IPv5"] }, "ipFamilies[0]"],
    ["a port protocol", { ports: [{ protocol: "HTTP", port: 80 }] }, "ports[0].protocol"],
  ])("a value outside its enum: %s", (_what, changes, path) => {
    expect(problemOf(json(changes))).toMatch(
      new RegExp(`^invalid export record: ${path.replace(/[[\].]/g, "\\$&")}: `),
    );
  });

  it.each([
    ["0", 0],
    ["65536", 65_536],
    ["-1", -1],
    ["80.5", 80.5],
    ['"80"', "80"],
  ])("a port number out of range or not an integer: %s", (_what, port) => {
    expect(problemOf(json({ ports: [{ protocol: "TCP", port }] }))).toMatch(
      /^invalid export record: ports\[0\]\.port: /,
    );
  });

  it("accepts the port range bounds 1 and 65535", () => {
    const ports = [
      { protocol: "TCP", port: 1 },
      { protocol: "TCP", port: 65_535 },
    ];
    expect(decodeRecord(json({ ports }))).toEqual({ record: { ...RECORD, ports } });
  });

  it("a port without protocol (the record always spells it out)", () => {
    expect(problemOf(json({ ports: [{ port: 80 }] }))).toMatch(/^invalid export record: ports\[0\]\.protocol: /);
  });

  it("a port name over 63 characters", () => {
    const ports = [{ name: "p".repeat(64), protocol: "TCP", port: 80 }];
    expect(problemOf(json({ ports }))).toMatch(/^invalid export record: ports\[0\]\.name: /);
  });

  it("more than 100 ports, and takes exactly 100", () => {
    const ports = (n: number) => Array.from({ length: n }, (_, i) => ({ protocol: "TCP", port: i + 1 }));
    expect(problemOf(json({ ports: ports(101) }))).toMatch(/^invalid export record: ports: /);
    const hundred = decodeRecord(json({ ports: ports(100) }));
    expect("record" in hundred && hundred.record.ports).toHaveLength(100);
  });

  it("extra keys, at the top and in a port (strict)", () => {
    expect(problemOf(json({ clusterIP: "10.0.0.1" }))).toMatch(/^invalid export record: .*clusterIP/);
    const ports = [{ protocol: "TCP", port: 80, nodePort: 30080 }];
    expect(problemOf(json({ ports }))).toMatch(/^invalid export record: ports\[0\]: .*nodePort/);
  });

  it("reports at most three issues, clearly", () => {
    const problem = problemOf(JSON.stringify({ type: "Other", ports: "none", sessionAffinity: 1 }));
    expect(problem).toMatch(/^invalid export record: /);
    const issues = problem.slice("invalid export record: ".length).split("; ");
    expect(issues).toHaveLength(3);
    for (const issue of issues) expect(issue).toMatch(/^(created|type|ports|sessionAffinity): /);
  });

  it("does not echo long values it rejects", () => {
    const long = "v".repeat(MAX_RECORD_BYTES - 1000);
    for (const changes of [
      { created: long },
      { type: long },
      { sessionAffinity: long },
      { ipFamilies: [long] },
      { ports: [{ name: long, protocol: "TCP", port: 80 }] },
      { ports: [{ protocol: long, port: 80 }] },
      { ports: [{ protocol: "TCP", port: 80, appProtocol: long }] },
    ]) {
      const problem = problemOf(json(changes));
      expect(problem).not.toContain("vvvvvvvvvv");
      expect(problem.length).toBeLessThan(300);
    }
  });

  // Regression (found in review; fixed): (record.ts decodeRecord): zod's strict-object issue for an unknown key is `Unrecognized key: "<key>"`, and
  // the problem text is built from the issue messages unbounded, so a key of ~16 KiB comes back in full in the
  // problem (which the controller logs as a warning). It should be bounded like every other rejected value.
  it("does not echo a long unknown key", () => {
    const key = "k".repeat(MAX_RECORD_BYTES - 1000);
    const problem = problemOf(json({ [key]: true }));
    expect(problem).toMatch(/^invalid export record: /);
    expect(problem.length).toBeLessThan(300);
  });
});
