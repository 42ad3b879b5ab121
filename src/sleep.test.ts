import { describe, expect, it } from "vitest";
import { sleep } from "./sleep.ts";

describe("sleep", () => {
  it("waits the time it is given", async () => {
    const started = performance.now();
    await sleep(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });

  it("ends early, resolving, when its signal aborts", async () => {
    const abort = new AbortController();
    const started = performance.now();
    setTimeout(() => abort.abort(), 10);
    await sleep(10_000, abort.signal);
    expect(performance.now() - started).toBeLessThan(1000);
    await expect(sleep(10_000, abort.signal)).resolves.toBeUndefined();
  });
});
