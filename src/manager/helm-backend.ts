import type { Helm } from "../helm/helm.ts";
import { isHelmError } from "../helm/errors.ts";
import type { ReleaseBackend } from "./release.ts";

/** The manager's release, through the real Helm CLI. */
export class HelmReleaseBackend implements ReleaseBackend {
  private readonly helm: Helm;
  private readonly release: string;
  private readonly namespace: string;
  private readonly chart: string;
  private readonly timeout: string;

  constructor(options: { helm: Helm; release: string; namespace: string; chart: string; timeout?: string }) {
    this.helm = options.helm;
    this.release = options.release;
    this.namespace = options.namespace;
    this.chart = options.chart;
    this.timeout = options.timeout ?? "5m";
  }

  async deployedValues(): Promise<Record<string, unknown> | undefined> {
    try {
      return await this.helm.getValues(this.release, this.namespace);
    } catch (err) {
      if (isHelmError(err, "ReleaseNotFound")) return undefined;
      throw err;
    }
  }

  async upgrade(values: Record<string, unknown>): Promise<{ revision?: number }> {
    const release = await this.helm.upgradeInstall({
      release: this.release,
      chart: this.chart,
      namespace: this.namespace,
      values,
      timeout: this.timeout,
      description: "zonesync manager: controllers values changed",
      serverSide: false,
    });
    return { revision: release.revision };
  }
}
