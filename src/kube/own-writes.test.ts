import { describe, expect, it } from "vitest";
import { OwnWrites } from "./own-writes.ts";

describe("OwnWrites", () => {
  it("tells the echo of the last own write from any other value", () => {
    const writes = new OwnWrites<string>();
    expect(writes.isEcho("ns/a", "h1")).toBe(false);
    writes.record("ns/a", "h1");
    expect(writes.isEcho("ns/a", "h1")).toBe(true);
    expect(writes.isEcho("ns/a", "h2")).toBe(false);
    expect(writes.isEcho("ns/b", "h1")).toBe(false);
    expect(writes.isEcho("ns/a", undefined)).toBe(false);
    writes.record("ns/a", "h2");
    expect(writes.isEcho("ns/a", "h1")).toBe(false);
    expect(writes.get("ns/a")).toBe("h2");
  });

  it("forgets one key or everything", () => {
    const writes = new OwnWrites<string>();
    writes.record("a", "1");
    writes.record("b", "2");
    writes.forget("a");
    expect(writes.isEcho("a", "1")).toBe(false);
    expect(writes.isEcho("b", "2")).toBe(true);
    writes.forget();
    expect(writes.size).toBe(0);
    expect(writes.isEcho("b", "2")).toBe(false);
  });
});
