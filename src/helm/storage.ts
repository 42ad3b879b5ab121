import { gunzipSync } from "node:zlib";
import type { KubeObject } from "../kube/client.ts";
import { Resources } from "../kube/resources.ts";
import type { KubeClient } from "../kube/client.ts";

/** What reading Helm's storage needs from a client (the checks pass a recording wrapper). */
export type StorageClient = Pick<KubeClient, "listAll">;

/**
 * The deployed Helm release, read straight from Helm's storage in the cluster (Secret
 * `sh.helm.release.v1.<release>.v<revision>`, labels owner=helm, name=<release>, status=deployed; or the
 * ConfigMap driver's equivalent) instead of running `helm get values`: one list call, no binary, no fork, so it
 * works in the probe's budget, inside the manager's pod, and with Helm 3 and 4 alike (both write the same format).
 */

export interface HelmRelease {
  name: string;
  namespace: string;
  revision: number;
  status: string;
  chartName: string;
  chartVersion: string;
  appVersion: string;
  /** What made this revision, e.g. "Upgrade complete", "Preparing upgrade", or the --description given. */
  description: string;
  /** When this revision was deployed (for a pending one: when the operation started), RFC 3339. */
  lastDeployed?: string;
  /** The user-supplied values (`helm get values`). */
  config: Record<string, unknown>;
  /** The chart's values.yaml. */
  chartValues: Record<string, unknown>;
  /** What the templates saw: the chart's values coalesced with the user's (`helm get values --all`). */
  values: Record<string, unknown>;
  /** Where it was read from, e.g. `Secret zonesync-system/sh.helm.release.v1.zonesync.v3`. */
  source: string;
}

export interface StoredRelease {
  name?: string;
  namespace?: string;
  version?: number;
  info?: { status?: string; description?: string; last_deployed?: string };
  chart?: { metadata?: { name?: string; version?: string; appVersion?: string }; values?: Record<string, unknown> };
  config?: Record<string, unknown> | null;
}

/** Helm's encoding: base64 of the gzipped JSON (gzip is optional in the format; old releases may be plain). */
export function decodeReleaseData(encoded: string): StoredRelease {
  const bytes = Buffer.from(encoded, "base64");
  const json = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  return JSON.parse(json.toString("utf8")) as StoredRelease;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Helm's coalescing of user values over chart values: maps merge key by key, anything else (lists included) is
 * replaced, and a user `null` deletes the chart's key.
 */
export function coalesceValues(chart: unknown, user: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = isMap(chart) ? structuredClone(chart) : {};
  if (!isMap(user)) return out;
  for (const [key, value] of Object.entries(user)) {
    if (value === null) delete out[key];
    else if (isMap(value) && isMap(out[key])) out[key] = coalesceValues(out[key], value);
    else out[key] = structuredClone(value);
  }
  return out;
}

/** One stored revision of a release: what its labels say, and its record (decoded on demand). */
export interface StoredRevision {
  revision: number;
  /** deployed, superseded, failed, pending-install, pending-upgrade, pending-rollback, uninstalling… */
  status: string;
  /** `Secret <ns>/<name>` or `ConfigMap <ns>/<name>`. */
  source: string;
  /**
   * The labels of the storage object: Helm keeps a release's own labels (`helm upgrade --labels`) there, not in the
   * record, next to its system labels (owner, name, status, version, createdAt, modifiedAt).
   */
  labels: Record<string, string>;
  decode(): StoredRelease;
}

/** Every stored revision of a release in a namespace, newest first (Secret driver, else ConfigMap driver). */
export async function listRevisions(
  client: StorageClient,
  namespace: string,
  release: string,
  options: { status?: string } = {},
): Promise<StoredRevision[]> {
  const labelSelector = `owner=helm,name=${release}${options.status ? `,status=${options.status}` : ""}`;
  type Stored = KubeObject & { data?: Record<string, string> };
  let items = (await client.listAll<Stored>(Resources.secrets, namespace, { labelSelector })).items;
  let kind = "Secret";
  let encoded = (o: Stored) => Buffer.from(o.data?.release ?? "", "base64").toString("utf8");
  if (items.length === 0) {
    items = (await client.listAll<Stored>(Resources.configMaps, namespace, { labelSelector })).items;
    kind = "ConfigMap";
    encoded = (o: Stored) => o.data?.release ?? "";
  }
  return items
    .map((o) => ({
      revision: Number(o.metadata.labels?.version ?? 0),
      status: o.metadata.labels?.status ?? "unknown",
      source: `${kind} ${namespace}/${o.metadata.name}`,
      labels: o.metadata.labels ?? {},
      decode: once(() => decodeReleaseData(encoded(o))),
    }))
    .sort((a, b) => b.revision - a.revision);
}

/** Gunzipping a record (the chart's templates included) is the costly part: each is decoded at most once. */
function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/** A stored revision as a HelmRelease. */
function toHelmRelease(revision: StoredRevision, namespace: string, release: string): HelmRelease {
  const stored = revision.decode();
  const chartValues = stored.chart?.values ?? {};
  const config = stored.config ?? {};
  return {
    name: stored.name ?? release,
    namespace: stored.namespace ?? namespace,
    revision: stored.version ?? revision.revision,
    status: stored.info?.status ?? revision.status,
    chartName: stored.chart?.metadata?.name ?? "",
    chartVersion: stored.chart?.metadata?.version ?? "",
    appVersion: stored.chart?.metadata?.appVersion ?? "",
    description: stored.info?.description ?? "",
    lastDeployed: stored.info?.last_deployed,
    config,
    chartValues,
    values: coalesceValues(chartValues, config),
    source: revision.source,
  };
}

/** The newest deployed revision of a release, or undefined when there is none in that namespace. */
export async function readDeployedRelease(
  client: StorageClient,
  namespace: string,
  release: string,
): Promise<HelmRelease | undefined> {
  const [newest] = await listRevisions(client, namespace, release, { status: "deployed" });
  return newest ? toHelmRelease(newest, namespace, release) : undefined;
}
