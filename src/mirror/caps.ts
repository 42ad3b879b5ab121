import { DropTally, type DropCounts } from "./drops.ts";
import type { TargetSlice } from "./model.ts";

/**
 * The per-link caps, as pure functions of what the target holds. Deterministic, so every controller (and every
 * restart) keeps the same objects: Services by namespace/name, slices by name, endpoints in slice order.
 */

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface ServiceRef {
  namespace: string;
  name: string;
}

export interface ServiceCap {
  /** `namespace/name` of the Services within the cap. */
  within: ReadonlySet<string>;
  /** `namespace/name` of the Services past it, sorted. */
  over: string[];
}

/** The first `max` Services by namespace, then name; the rest are over the cap. */
export function capServices(services: Iterable<ServiceRef>, max: number): ServiceCap {
  const sorted = [...services].sort((a, b) => compare(a.namespace, b.namespace) || compare(a.name, b.name));
  const keys = sorted.map((s) => `${s.namespace}/${s.name}`);
  const limit = Math.max(0, max);
  return { within: new Set(keys.slice(0, limit)), over: keys.slice(limit) };
}

export interface SliceCaps {
  maxSlicesPerService: number;
  maxEndpointsPerService: number;
}

const addresses = (slice: TargetSlice, from = 0): number =>
  slice.endpoints.slice(from).reduce((n, e) => n + e.addresses.length, 0);

/**
 * The slices of one Service within the caps: the first `maxSlicesPerService` valid slices by name, and in that
 * order at most `maxEndpointsPerService` endpoints in all (a slice past the budget keeps its first endpoints, or
 * none). Invalid slices are passed through (they are never rendered) and count toward no cap. What the caps drop is
 * counted as `tooMany` addresses.
 */
export function capServiceSlices(
  slices: readonly TargetSlice[],
  caps: SliceCaps,
): { slices: TargetSlice[]; dropped?: Partial<DropCounts> } {
  const tally = new DropTally();
  const valid = slices.filter((s) => !s.invalid).sort((a, b) => compare(a.metadata.name, b.metadata.name));
  const out: TargetSlice[] = slices.filter((s) => s.invalid);
  let budget = Math.max(0, caps.maxEndpointsPerService);
  valid.forEach((slice, i) => {
    if (i >= caps.maxSlicesPerService) return tally.add("tooMany", addresses(slice));
    if (slice.endpoints.length <= budget) {
      budget -= slice.endpoints.length;
      out.push(slice);
      return;
    }
    tally.add("tooMany", addresses(slice, budget));
    out.push({ ...slice, endpoints: slice.endpoints.slice(0, budget) });
    budget = 0;
  });
  const dropped = tally.result();
  return dropped ? { slices: out, dropped } : { slices: out };
}
