import { describe, expect, it } from "vitest";
import { WorkQueue, type QueueObserver } from "./workqueue.ts";
import { sleep } from "../sleep.ts";

/** Resolves when `predicate` holds, polling every 2 ms; fails after `ms`. */
async function until(predicate: () => boolean, ms = 900): Promise<void> {
  const deadline = performance.now() + ms;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await sleep(2);
  }
}

describe("WorkQueue", () => {
  it("processes a key added several times while waiting once", async () => {
    const queue = new WorkQueue();
    const seen: string[] = [];
    queue.add("a");
    queue.add("b");
    queue.add("a");
    queue.add("a");
    const running = queue.run(async (key) => {
      seen.push(key);
    });
    await until(() => queue.idle);
    await queue.shutdown();
    await running;
    expect(seen).toEqual(["a", "b"]);
  });

  it("never processes one key concurrently; a key re-added while processing runs again afterwards", async () => {
    const queue = new WorkQueue();
    const active = new Map<string, number>();
    let maxActive = 0;
    const log: string[] = [];
    void queue.run(
      async (key) => {
        const n = (active.get(key) ?? 0) + 1;
        active.set(key, n);
        maxActive = Math.max(maxActive, n);
        log.push(`start ${key}`);
        await sleep(40);
        log.push(`end ${key}`);
        active.set(key, n - 1);
      },
      { workers: 4 },
    );
    queue.add("a");
    await sleep(10);
    queue.add("a"); // while processing: deferred
    queue.add("a"); // deduplicated with the deferred one
    queue.add("b"); // another key runs in parallel
    await until(() => queue.idle);
    await queue.shutdown();
    expect(maxActive).toBe(1);
    expect(log.filter((l) => l === "start a")).toHaveLength(2);
    expect(log.indexOf("start a", 1)).toBeGreaterThan(log.indexOf("end a"));
    expect(log.indexOf("start b")).toBeLessThan(log.indexOf("end a"));
  });

  it("coalesces a burst of adds into one run, coalesceMs after the first add", async () => {
    const queue = new WorkQueue({ coalesceMs: 60 });
    const runs: number[] = [];
    const t0 = performance.now();
    void queue.run(async () => {
      runs.push(performance.now() - t0);
    });
    for (let i = 0; i < 5; i++) {
      queue.add("a");
      await sleep(10);
    }
    await until(() => runs.length > 0);
    await sleep(80);
    await queue.shutdown();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toBeGreaterThanOrEqual(58);
    expect(runs[0]).toBeLessThan(110); // not pushed back by the later adds
  });

  it("addAfter: an earlier pending add wins over a later one", async () => {
    const queue = new WorkQueue();
    const runs: number[] = [];
    const t0 = performance.now();
    void queue.run(async () => {
      runs.push(performance.now() - t0);
    });
    queue.addAfter("a", 300);
    queue.addAfter("a", 30);
    queue.addAfter("a", 200);
    await until(() => runs.length > 0);
    await sleep(350);
    await queue.shutdown();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toBeLessThan(150);
  });

  it("retries a failing key with growing backoff and resets it on success", async () => {
    const retried: number[] = [];
    const observer: QueueObserver = { retried: (_key, delay) => retried.push(delay) };
    const queue = new WorkQueue({ backoffBaseMs: 10, observer });
    const attempts: number[] = [];
    const t0 = performance.now();
    void queue.run(async (key) => {
      attempts.push(performance.now() - t0);
      if (attempts.length <= 4) throw new Error(`fail ${key}`);
    });
    queue.add("a");
    await until(() => attempts.length === 5);
    await until(() => queue.idle);
    expect(retried).toEqual([10, 20, 40, 80]);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(10 * 2 ** i - 2));
    expect(queue.numRequeues("a")).toBe(0); // success forgot the failures
    queue.addRateLimited("a");
    expect(retried.at(-1)).toBe(10); // starts over at the base
    await queue.shutdown({ drain: false });
  });

  it("drops a key after maxRetries failures", async () => {
    const queue = new WorkQueue({ backoffBaseMs: 1, maxRetries: 2 });
    let attempts = 0;
    const dropped: string[] = [];
    void queue.run(
      async () => {
        attempts++;
        throw new Error("always");
      },
      { onError: (key, _err, _retries, isDropped) => isDropped && dropped.push(key) },
    );
    queue.add("x");
    await until(() => dropped.length === 1);
    await sleep(20);
    expect(attempts).toBe(3);
    expect(queue.idle).toBe(true);
    await queue.shutdown();
  });

  it("limits the overall processing rate with a token bucket", async () => {
    const queue = new WorkQueue({ qps: 50, burst: 2 });
    const times: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 12; i++) queue.add(`k${i}`);
    void queue.run(
      async () => {
        times.push(performance.now() - t0);
      },
      { workers: 4 },
    );
    await until(() => times.length === 12);
    await queue.shutdown();
    // 2 at once, then one per 20 ms: the 12th needs (12 - 2) / 50 s = 200 ms.
    expect(times[1]).toBeLessThan(15);
    expect(times[11]).toBeGreaterThanOrEqual(195);
    expect(times[11]).toBeLessThan(400);
  });

  it("shutdown drains ready keys, then ignores adds and resolves run", async () => {
    const queue = new WorkQueue();
    const seen: string[] = [];
    for (const k of ["a", "b", "c", "d"]) queue.add(k);
    queue.addAfter("later", 50);
    const running = queue.run(async (key) => {
      await sleep(5);
      seen.push(key);
    });
    await queue.shutdown();
    await running;
    queue.add("e");
    await sleep(80);
    expect(seen).toEqual(["a", "b", "c", "d"]); // the delayed key was dropped
    expect(queue.shuttingDown).toBe(true);
  });

  it("shutdown without draining aborts handlers and drops ready keys", async () => {
    const queue = new WorkQueue();
    const seen: string[] = [];
    let aborted = false;
    for (const k of ["a", "b", "c"]) queue.add(k);
    void queue.run(async (key, signal) => {
      seen.push(key);
      await new Promise<void>((resolve) => {
        signal.addEventListener("abort", () => {
          aborted = true;
          resolve();
        });
      });
    });
    await until(() => seen.length === 1);
    const t0 = performance.now();
    await queue.shutdown({ drain: false });
    expect(performance.now() - t0).toBeLessThan(50);
    expect(aborted).toBe(true);
    expect(seen).toEqual(["a"]);
  });

  it("shutdown with a timeout gives up on a stuck handler", async () => {
    const queue = new WorkQueue();
    queue.add("stuck");
    void queue.run(() => new Promise(() => {}));
    await sleep(5);
    const t0 = performance.now();
    await queue.shutdown({ timeoutMs: 30 });
    expect(performance.now() - t0).toBeLessThan(100);
  });

  it("reports depth, adds and processing through the observer", async () => {
    const depths: number[] = [];
    const processed: Array<[string, boolean]> = [];
    const durations = new Map<string, number>();
    let adds = 0;
    const queue = new WorkQueue({
      observer: {
        depth: (d) => depths.push(d),
        added: () => adds++,
        processed: (key, ms, error) => {
          durations.set(key, ms);
          processed.push([key, error !== undefined]);
        },
      },
    });
    queue.add("a");
    queue.add("b");
    queue.add("a");
    expect(queue.depth).toBe(2);
    void queue.run(async (key) => {
      if (key === "a") await sleep(40);
      if (key === "b") throw new Error("b fails");
    });
    await until(() => processed.length >= 2);
    await queue.shutdown({ drain: false });
    expect(adds).toBe(3);
    expect(depths.slice(0, 2)).toEqual([1, 2]);
    expect(depths).toContain(0);
    expect(processed.slice(0, 2)).toEqual([
      ["a", false],
      ["b", true],
    ]);
    // The duration is the handler's own time: "a" slept 40 ms, "b" threw at once.
    expect(durations.get("a")).toBeGreaterThanOrEqual(39);
    expect(durations.get("b")).toBeLessThan(durations.get("a")!);
  });
});
