/**
 * What the zone-sync controller needs of the NGINX workload (Deployment, DaemonSet or StatefulSet): the labels
 * its pods are selected by, and the config checksum its pod template carries. The informer keeps only this view.
 */
import { z } from "zod";
import { ANNOTATION_CONFIG_CHECKSUM } from "../api/names.ts";
import type { KubeObject } from "../kube/client.ts";

export interface WorkloadView extends KubeObject {
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
  };
  /** spec.selector.matchLabels; undefined when the workload could not be read (see `problem`). */
  matchLabels: Record<string, string> | undefined;
  /** The pod template's zonesync.io/config-checksum annotation, undefined when absent. */
  checksum: string | undefined;
  /** Why the workload cannot be used, e.g. a spec this controller does not understand. */
  problem?: string;
}

const rawWorkload = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    generation: z.number().optional(),
  }),
  spec: z
    .looseObject({
      selector: z.looseObject({ matchLabels: z.record(z.string(), z.string()).nullish() }).nullish(),
      template: z
        .looseObject({
          metadata: z.looseObject({ annotations: z.record(z.string(), z.string()).nullish() }).nullish(),
        })
        .nullish(),
    })
    .nullish(),
});

/** The compact view of a workload as the API server returns it (the informer's transform). */
export function toWorkloadView(raw: KubeObject): WorkloadView {
  const parsed = rawWorkload.safeParse(raw);
  const metadata = {
    name: raw.metadata.name ?? "",
    namespace: raw.metadata.namespace ?? "",
    uid: raw.metadata.uid,
    resourceVersion: raw.metadata.resourceVersion,
    generation: raw.metadata.generation,
  };
  const base = { apiVersion: raw.apiVersion, kind: raw.kind, metadata };
  if (!parsed.success) {
    return {
      ...base,
      matchLabels: undefined,
      checksum: undefined,
      problem: `unexpected ${raw.kind ?? "workload"} spec: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    };
  }
  const spec = parsed.data.spec;
  return {
    ...base,
    matchLabels: spec?.selector?.matchLabels ?? {},
    checksum: spec?.template?.metadata?.annotations?.[ANNOTATION_CONFIG_CHECKSUM],
  };
}

/**
 * The JSON merge patch that sets (or, for undefined, removes) the checksum annotation of the pod template.
 * With `resourceVersion`, the API server rejects it (409) when the workload changed since it was read, so a
 * stale cache can never make the controller patch twice.
 */
export function checksumPatch(checksum: string | undefined, resourceVersion: string | undefined): unknown {
  return {
    metadata: resourceVersion === undefined ? {} : { resourceVersion },
    spec: { template: { metadata: { annotations: { [ANNOTATION_CONFIG_CHECKSUM]: checksum ?? null } } } },
  };
}

/** Why the pods roll, as a label for metrics and a phrase for the Rollout Event. */
export type RolloutCause = "enabled" | "disabled" | "config" | "tls" | "drift";

export interface AppliedState {
  rendered: string;
  /** configChecksum of the TLS material alone, or undefined without TLS. */
  tlsChecksum: string | undefined;
}

/**
 * Why the checksum changes from `old` to `next`: zone-sync switched on or off, zone-sync.conf changed, the TLS
 * material changed, or (without a previous state to compare, e.g. after a restart, or when someone edited the
 * annotation) the workload simply carries another checksum than the configuration.
 */
export function rolloutCause(
  old: string | undefined,
  next: { checksum: string | undefined; state: AppliedState | undefined },
  previous: AppliedState | undefined,
): RolloutCause {
  if (old === undefined) return "enabled";
  if (next.checksum === undefined || next.state === undefined) return "disabled";
  if (previous === undefined) return "drift";
  if (previous.rendered !== next.state.rendered) return "config";
  if (previous.tlsChecksum !== next.state.tlsChecksum) return "tls";
  return "drift";
}

export function describeRolloutCause(cause: RolloutCause, tlsSecret?: string): string {
  switch (cause) {
    case "enabled":
      return "zone-sync was enabled";
    case "disabled":
      return "zone-sync was disabled";
    case "config":
      return "zone-sync.conf changed";
    case "tls":
      return `the TLS material of Secret ${tlsSecret ?? "?"} changed`;
    case "drift":
      return "the pod template's checksum differs from the current zone-sync configuration";
  }
}
