import type { BlockList } from "node:net";
import { DEFAULT_MAX_SERVICES } from "../api/link.ts";
import { cidrBlockList, inBlockList } from "./addresses.ts";
import { nonZero, type DropCounts } from "./drops.ts";
import type { TargetSlice } from "./model.ts";

/**
 * The link's rules for what of the target is mirrored, beyond what is never mirrored (model.ts): its deny list of
 * CIDRs, whether FQDN slices are mirrored, and the caps. Applied when a slice is indexed, and again to every slice
 * when the rules change, so a spec change takes effect without new watches.
 */

/** Endpoints mirrored per Service, over all its slices (Kubernetes has no cap; this is the link controller's). */
export const DEFAULT_MAX_ENDPOINTS_PER_SERVICE = 10_000;
/** EndpointSlices mirrored per Service: each is a local object to write, so a target cannot make thousands. */
export const DEFAULT_MAX_SLICES_PER_SERVICE = 1000;

export interface TargetPolicy {
  /** Addresses in these CIDRs are never mirrored (spec.excludeCIDRs). */
  excludeCIDRs: readonly string[];
  /** Mirror FQDN EndpointSlices (spec.mirrorFQDN, default false). */
  mirrorFQDN: boolean;
  /** Exported Services mirrored at most (spec.maxServices): the first ones by namespace/name. */
  maxServices: number;
  maxEndpointsPerService: number;
  maxSlicesPerService: number;
}

/** A policy ready to apply: the CIDRs as a BlockList, and a key that is equal for equal policies. */
export interface CompiledPolicy extends TargetPolicy {
  exclude: BlockList | undefined;
  key: string;
}

export interface PolicySpec {
  excludeCIDRs?: readonly string[];
  mirrorFQDN?: boolean;
  maxServices?: number;
}

/** The policy of a link spec (validated by parseLink, so its CIDRs parse; an invalid one throws). */
export function targetPolicy(spec: PolicySpec = {}, overrides: Partial<TargetPolicy> = {}): CompiledPolicy {
  const policy: TargetPolicy = {
    excludeCIDRs: [...(spec.excludeCIDRs ?? [])],
    mirrorFQDN: spec.mirrorFQDN ?? false,
    maxServices: spec.maxServices ?? DEFAULT_MAX_SERVICES,
    maxEndpointsPerService: DEFAULT_MAX_ENDPOINTS_PER_SERVICE,
    maxSlicesPerService: DEFAULT_MAX_SLICES_PER_SERVICE,
    ...overrides,
  };
  return {
    ...policy,
    exclude: policy.excludeCIDRs.length ? cidrBlockList(policy.excludeCIDRs) : undefined,
    key: JSON.stringify([
      [...policy.excludeCIDRs].sort(),
      policy.mirrorFQDN,
      policy.maxServices,
      policy.maxEndpointsPerService,
      policy.maxSlicesPerService,
    ]),
  };
}

export interface PolicyResult {
  /** What to mirror of the slice; undefined when nothing of it is (an FQDN slice without the opt-in). */
  slice: TargetSlice | undefined;
  /** What the policy dropped (absent when nothing). */
  dropped?: Partial<DropCounts>;
}

const addressCount = (slice: TargetSlice): number => slice.endpoints.reduce((n, e) => n + e.addresses.length, 0);

/** Applies the link's rules to one slice (read by toTargetSlice). Returns the same object when nothing changes. */
export function applySlicePolicy(slice: TargetSlice, policy: CompiledPolicy): PolicyResult {
  if (slice.invalid) return { slice };
  if (slice.addressType === "FQDN") {
    if (policy.mirrorFQDN) return { slice };
    const fqdn = addressCount(slice);
    return fqdn ? { slice: undefined, dropped: { fqdn } } : { slice: undefined };
  }
  const exclude = policy.exclude;
  if (!exclude) return { slice };
  const family = slice.addressType;
  let excluded = 0;
  const endpoints = slice.endpoints.flatMap((e) => {
    const addresses = e.addresses.filter((a) => !inBlockList(exclude, a, family));
    excluded += e.addresses.length - addresses.length;
    if (addresses.length === e.addresses.length) return [e];
    return addresses.length ? [{ ...e, addresses }] : [];
  });
  if (!excluded) return { slice };
  return { slice: { ...slice, endpoints }, dropped: nonZero({ excluded }) };
}
