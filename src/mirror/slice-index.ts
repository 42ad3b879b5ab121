import { capServiceSlices } from "./caps.ts";
import { addCounts, DropLedger, emptyCounts, nonZero, type DropCounts } from "./drops.ts";
import { sliceServiceKey, type TargetSlice } from "./model.ts";
import { applySlicePolicy, targetPolicy, type CompiledPolicy } from "./policy.ts";

interface Entry {
  /** As read (model.ts). */
  slice: TargetSlice;
  /** What the link's policy lets through; undefined when nothing of it is mirrored. */
  mirrored: TargetSlice | undefined;
}

export interface SliceIndexOptions {
  policy?: CompiledPolicy;
  /**
   * Something of an object was dropped: `object` is "EndpointSlice <ns>/<name>" (model and policy drops) or
   * "Service <ns>/<name>" (its caps). Called whenever the object's counts are (re)computed; DropLog dedups.
   */
  onDropped?: (object: string, counts: Partial<DropCounts>) => void;
}

/**
 * The target's EndpointSlices by Service, as they are mirrored: read (model.ts), filtered by the link's policy, and
 * capped per Service. Keeps what was dropped per slice and per Service in a DropLedger, so `totals()` is the
 * current state of the target, replaced as slices change and go. Capping is done when a Service's slices are read
 * (after a burst of slice events, once), not on every event.
 */
export class SliceIndex {
  private policy: CompiledPolicy;
  private readonly onDropped: SliceIndexOptions["onDropped"];
  /** `namespace/service` → slice name → entry. */
  private readonly byService = new Map<string, Map<string, Entry>>();
  /** `namespace/service` → its capped slices; absent when a slice of it changed since. */
  private readonly capped = new Map<string, TargetSlice[]>();
  private readonly dirty = new Set<string>();
  private readonly ledger = new DropLedger();

  constructor(options: SliceIndexOptions = {}) {
    this.policy = options.policy ?? targetPolicy();
    this.onDropped = options.onDropped;
  }

  get currentPolicy(): CompiledPolicy {
    return this.policy;
  }

  /** Adds or replaces a slice (under its Service); returns the Service's `namespace/name`. */
  set(slice: TargetSlice): string {
    const key = sliceServiceKey(slice);
    let byName = this.byService.get(key);
    if (!byName) this.byService.set(key, (byName = new Map()));
    byName.set(slice.metadata.name, this.entry(slice));
    this.invalidate(key);
    return key;
  }

  /** Removes a slice; returns its Service's `namespace/name`. */
  delete(slice: TargetSlice): string {
    const key = sliceServiceKey(slice);
    const byName = this.byService.get(key);
    if (byName?.delete(slice.metadata.name)) this.ledger.delete(sliceLedgerKey(slice));
    if (byName?.size === 0) this.byService.delete(key);
    this.invalidate(key);
    return key;
  }

  /**
   * Applies new rules to every slice. Returns the keys of the Services whose mirrored slices may have changed
   * (all of them), or none when the policy is the same.
   */
  setPolicy(policy: CompiledPolicy): string[] {
    if (policy.key === this.policy.key) return [];
    this.policy = policy;
    for (const [key, byName] of this.byService) {
      for (const [name, entry] of byName) byName.set(name, this.entry(entry.slice));
      this.invalidate(key);
    }
    return [...this.byService.keys()];
  }

  /** The slices of a Service (`namespace/name`) as they are mirrored: filtered and capped. */
  slicesOf(key: string): TargetSlice[] {
    const byName = this.byService.get(key);
    if (!byName) {
      this.dirty.delete(key);
      this.ledger.delete(`cap ${key}`);
      return [];
    }
    let slices = this.capped.get(key);
    if (!slices) {
      const entries = [...byName.values()];
      const mirrored = entries.flatMap((e) => (e.mirrored ? [e.mirrored] : []));
      const result = capServiceSlices(mirrored, this.policy);
      slices = result.slices;
      this.capped.set(key, slices);
      this.dirty.delete(key);
      this.ledger.set(`cap ${key}`, result.dropped);
      if (result.dropped) this.onDropped?.(`Service ${key}`, result.dropped);
    }
    return [...slices];
  }

  /** `namespace/name` of every Service with slices. */
  serviceKeys(): string[] {
    return [...this.byService.keys()];
  }

  /** What is dropped of the slices held now, by reason. */
  totals(): DropCounts {
    for (const key of [...this.dirty]) this.slicesOf(key);
    return this.ledger.totals();
  }

  /** What is dropped of one slice (model and policy), if anything. */
  droppedOf(slice: { metadata: { namespace: string; name: string } }): Partial<DropCounts> | undefined {
    return this.ledger.get(sliceLedgerKey(slice));
  }

  private entry(slice: TargetSlice): Entry {
    const { slice: mirrored, dropped } = applySlicePolicy(slice, this.policy);
    const counts = dropped ? nonZero(addCounts(addCounts(emptyCounts(), slice.dropped), dropped)) : slice.dropped;
    this.ledger.set(sliceLedgerKey(slice), counts);
    if (counts) this.onDropped?.(`EndpointSlice ${slice.metadata.namespace}/${slice.metadata.name}`, counts);
    return { slice, mirrored };
  }

  private invalidate(key: string): void {
    this.capped.delete(key);
    this.dirty.add(key);
  }
}

function sliceLedgerKey(slice: { metadata: { namespace: string; name: string } }): string {
  return `slice ${slice.metadata.namespace}/${slice.metadata.name}`;
}
