import { sleep } from "../../src/sleep.ts";

/** Thrown by a probe to end `eventually` at once with `cause` (waiting longer cannot help, e.g. a process died). */
export class AbortWait extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
    this.name = "AbortWait";
  }
}

/**
 * Polls until `probe` returns a value that is not undefined/false, or fails with the last error after timeoutMs.
 * One polling loop for the test environment, the tests and `npm start`.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
  what = "condition",
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (err instanceof AbortWait) throw err.cause;
      lastError = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
}
