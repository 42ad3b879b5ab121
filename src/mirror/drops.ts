/**
 * What the link controller refused of the target's data, counted by reason. The unit depends on the reason:
 * - addresses not mirrored: `loopback`, `linkLocal` (incl. 169.254.169.254), `unspecified` (0.0.0.0/8, ::),
 *   `multicast`, `broadcast`, `excluded` (the link's spec.excludeCIDRs), `wrongFamily` (an address of the other
 *   family than the slice's addressType, IPv4-mapped IPv6 included), `invalid` (not an address of the slice's type,
 *   or an endpoint/object that does not parse: one each), `fqdn` (addresses of an FQDN slice the link does not opt
 *   in to), `tooMany` (addresses past a cap: per endpoint, per slice, per Service);
 * - `hostname`: endpoint hostnames removed (the endpoint is kept); `zone`: endpoint zones removed;
 * - `port`: ports removed (invalid number, protocol or name, duplicates, past the cap) or a port's invalid
 *   appProtocol removed;
 * - `name`: objects (Services, EndpointSlices) not mirrored because a name, namespace or service-name label is not
 *   a valid Kubernetes name.
 */
export const DROP_REASONS = [
  "loopback",
  "linkLocal",
  "unspecified",
  "multicast",
  "broadcast",
  "excluded",
  "wrongFamily",
  "invalid",
  "fqdn",
  "hostname",
  "port",
  "zone",
  "name",
  "tooMany",
] as const;
export type DropReason = (typeof DROP_REASONS)[number];
export type DropCounts = Record<DropReason, number>;

export function emptyCounts(): DropCounts {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as DropCounts;
}

/** Adds `b` into `a` (times `sign`, so -1 subtracts); returns `a`. */
export function addCounts(a: DropCounts, b: Partial<DropCounts> | undefined, sign = 1): DropCounts {
  if (!b) return a;
  for (const r of DROP_REASONS) a[r] += sign * (b[r] ?? 0);
  return a;
}

export function totalDrops(counts: Partial<DropCounts> | undefined): number {
  let n = 0;
  for (const r of DROP_REASONS) n += counts?.[r] ?? 0;
  return n;
}

/** Only the reasons with a count (what objects carry, so clean objects carry nothing). */
export function nonZero(counts: Partial<DropCounts>): Partial<DropCounts> {
  const out: Partial<DropCounts> = {};
  for (const r of DROP_REASONS) if (counts[r]) out[r] = counts[r];
  return out;
}

/** A per-reason tally that objects fill while they are read. */
export class DropTally {
  private readonly counts: Partial<DropCounts> = {};
  add(reason: DropReason, n = 1): void {
    if (n > 0) this.counts[reason] = (this.counts[reason] ?? 0) + n;
  }
  /** The non-zero counts, or undefined when nothing was dropped. */
  result(): Partial<DropCounts> | undefined {
    return totalDrops(this.counts) > 0 ? { ...this.counts } : undefined;
  }
}

/**
 * Per-object drop counts and their running totals. Setting an object's counts replaces what it had, deleting it
 * removes them, so the totals describe what the target holds now rather than growing with every update.
 */
export class DropLedger {
  private readonly byKey = new Map<string, Partial<DropCounts>>();
  private readonly sums = emptyCounts();

  set(key: string, counts: Partial<DropCounts> | undefined): void {
    this.delete(key);
    if (!counts || totalDrops(counts) === 0) return;
    this.byKey.set(key, counts);
    addCounts(this.sums, counts);
  }

  delete(key: string): void {
    const old = this.byKey.get(key);
    if (!old) return;
    this.byKey.delete(key);
    addCounts(this.sums, old, -1);
  }

  get(key: string): Partial<DropCounts> | undefined {
    return this.byKey.get(key);
  }

  /** A copy of the totals over every object. */
  totals(): DropCounts {
    return { ...this.sums };
  }

  get size(): number {
    return this.byKey.size;
  }
}

/** What DropLog writes to: any logger with `warn` (winston's included). */
export interface WarnLogger {
  warn(message: string, meta: Record<string, unknown>): unknown;
}

/**
 * Logs a drop once per distinct (reason, object): a target that keeps sending the same hostile slice does not
 * flood the log. The memory of what was logged is bounded (`capacity` entries, the oldest forgotten first), so an
 * object forgotten long ago may be logged again.
 */
export class DropLog {
  private readonly seen = new Set<string>();
  private readonly capacity: number;
  private readonly logger: WarnLogger | undefined;

  constructor(logger: WarnLogger | undefined, capacity = 1024) {
    this.logger = logger;
    this.capacity = Math.max(1, capacity);
  }

  /** Logs every reason of `counts` not yet logged for `object`; returns the reasons it logged. */
  report(object: string, counts: Partial<DropCounts> | undefined): DropReason[] {
    const logged: DropReason[] = [];
    if (!counts) return logged;
    for (const reason of DROP_REASONS) {
      const count = counts[reason] ?? 0;
      if (count <= 0) continue;
      const key = `${reason}\u0000${object}`;
      if (this.seen.has(key)) continue;
      if (this.seen.size >= this.capacity) this.seen.delete(this.seen.values().next().value!);
      this.seen.add(key);
      logged.push(reason);
      this.logger?.warn("target data not mirrored", { object, reason, count });
    }
    return logged;
  }

  get size(): number {
    return this.seen.size;
  }
}
