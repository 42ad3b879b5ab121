import { sleep } from "../../src/sleep.ts";

/**
 * How long a test waits for a cluster's own controllers (Deployment, ReplicaSet, EndpointSlice) to show a change. The
 * EndpointSlice controller retries a Service whose slices its own cache has not caught up with ("stale informer
 * cache") after 1, 2, 4, 8 s... (kube's endpointslice defaultSyncBackOff); on a loaded 2-core CI run that passed 20 s.
 * A wait for zonesync's own work comes after it, with its own, shorter bound.
 */
export const KUBE_CONTROLLERS_MS = 60_000;

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
