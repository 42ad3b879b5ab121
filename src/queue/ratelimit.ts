/**
 * A token bucket: `burst` tokens at most, refilled at `qps` tokens per second. `reserve()` takes one token now and
 * says how long the caller must wait before using it (0 when a token was available), like Go's rate.Limiter, so
 * reservations made while the bucket is empty queue up fairly behind each other.
 */
export class TokenBucket {
  readonly qps: number;
  readonly burst: number;
  private tokens: number;
  private last: number;
  private readonly now: () => number;

  constructor(qps: number, burst: number, now: () => number = () => performance.now()) {
    if (!(qps > 0)) throw new RangeError(`qps must be positive, got ${qps}`);
    if (!(burst >= 1)) throw new RangeError(`burst must be at least 1, got ${burst}`);
    this.qps = qps;
    this.burst = burst;
    this.tokens = burst;
    this.now = now;
    this.last = now();
  }

  /** Takes a token; returns the delay in milliseconds until it may be used. */
  reserve(): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }
}

/** Per-key exponential backoff: base, 2×base, 4×base, ... capped at max; `forget` starts a key over. */
export class ExponentialBackoff {
  readonly baseMs: number;
  readonly maxMs: number;
  private readonly failures = new Map<string, number>();

  constructor(baseMs = 5, maxMs = 1_000_000) {
    if (!(baseMs > 0) || !(maxMs >= baseMs)) throw new RangeError(`invalid backoff ${baseMs} ms .. ${maxMs} ms`);
    this.baseMs = baseMs;
    this.maxMs = maxMs;
  }

  /** The delay for the key's next retry; counts one more failure. */
  next(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    // 2 ** 1024 is Infinity, which Math.min caps, so the exponent never needs its own limit.
    return Math.min(this.maxMs, this.baseMs * 2 ** failures);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}
