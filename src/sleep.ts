/**
 * Waits `ms` milliseconds, or less when `signal` aborts first. It resolves in both cases (never rejects), so a loop
 * that sleeps between attempts checks its own stop condition instead of catching an AbortError.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
