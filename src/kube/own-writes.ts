/**
 * What this process last wrote, per key, so that the echo of its own write (a watch event, or a cache that has not
 * caught up yet) is told apart from a change someone else made, and the same content is never written twice.
 *
 * The one place that remembers own writes: mirrors keep the content hash per object, the zone-sync controller the
 * checksum it patched onto a workload version, the link controller the status it last sent.
 */
export class OwnWrites<V> {
  private readonly last = new Map<string, V>();

  /** Remember that `value` was written under `key` (replacing what was remembered before). */
  record(key: string, value: V): void {
    this.last.set(key, value);
  }

  /** What was last written under `key`, if it is still remembered. */
  get(key: string): V | undefined {
    return this.last.get(key);
  }

  /** True when `observed` is what this process last wrote under `key`. */
  isEcho(key: string, observed: V | undefined): boolean {
    return observed !== undefined && this.last.has(key) && this.last.get(key) === observed;
  }

  /** Forget one key (the object was deleted), or everything (after leadership changed hands). */
  forget(key?: string): void {
    if (key === undefined) this.last.clear();
    else this.last.delete(key);
  }

  get size(): number {
    return this.last.size;
  }
}
