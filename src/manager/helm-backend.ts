import type { Helm } from "../helm/helm.ts";
import { listRevisions, type StorageClient, type StoredRevision } from "../helm/storage.ts";
import { MANAGER_OPERATION_LABEL, type ReleaseBackend, type ReleaseSnapshot } from "./release.ts";

/**
 * The manager's release: read from Helm's storage in the cluster (one list call, no helm process, so a reconcile
 * that changes nothing costs no fork), changed through the real Helm CLI.
 */
export class HelmReleaseBackend implements ReleaseBackend {
  private readonly helm: Helm;
  private readonly client: StorageClient;
  private readonly release: string;
  private readonly namespace: string;
  private readonly chart: string;
  private readonly timeout: string;

  constructor(options: {
    helm: Helm;
    client: StorageClient;
    release: string;
    namespace: string;
    chart: string;
    timeout?: string;
  }) {
    this.helm = options.helm;
    this.client = options.client;
    this.release = options.release;
    this.namespace = options.namespace;
    this.chart = options.chart;
    this.timeout = options.timeout ?? "5m";
  }

  async snapshot(): Promise<ReleaseSnapshot> {
    const revisions = await listRevisions(this.client, this.namespace, this.release);
    const [latest, previous] = revisions;
    const deployed = revisions.find((r) => r.status === "deployed");
    const snapshot: ReleaseSnapshot = {};
    if (latest) {
      const record = latest.decode();
      const started = record.info?.last_deployed ? Date.parse(record.info.last_deployed) : NaN;
      snapshot.latest = {
        revision: latest.revision,
        status: record.info?.status ?? latest.status,
        ...(Number.isFinite(started) ? { startedAt: started } : {}),
        operation: latest.labels[MANAGER_OPERATION_LABEL],
        previousOperation: previous?.labels[MANAGER_OPERATION_LABEL],
      };
    }
    if (deployed) snapshot.deployed = { revision: deployed.revision, values: valuesOf(deployed) };
    return snapshot;
  }

  async upgrade(
    values: Record<string, unknown>,
    options: { operation: string; signal?: AbortSignal },
  ): Promise<{ revision?: number }> {
    const release = await this.helm.upgradeInstall({
      release: this.release,
      chart: this.chart,
      namespace: this.namespace,
      values,
      timeout: this.timeout,
      description: "zonesync manager: controllers values changed",
      labels: { [MANAGER_OPERATION_LABEL]: options.operation },
      serverSide: false,
      signal: options.signal,
    });
    return { revision: release.revision };
  }

  async rollback(revision: number, options: { signal?: AbortSignal }): Promise<void> {
    await this.helm.rollback(this.release, this.namespace, {
      revision,
      timeout: this.timeout,
      signal: options.signal,
    });
  }
}

function valuesOf(revision: StoredRevision): Record<string, unknown> {
  return revision.decode().config ?? {};
}
