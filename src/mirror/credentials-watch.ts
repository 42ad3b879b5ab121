import type { KubeClient } from "../kube/client.ts";
import { Informer } from "../kube/informer.ts";
import { Resources } from "../kube/resources.ts";
import type { Logger } from "../log.ts";
import { compactSecret, type CredentialsSecret } from "./credentials.ts";

export interface CredentialsWatchOptions {
  /** The local cluster, where the link and its credentials Secret live. */
  client: KubeClient;
  namespace: string;
  logger: Logger;
  /** The Secret's kubeconfig changed, or the Secret is missing (undefined, once the watch knows). */
  onChange: (secret: CredentialsSecret | undefined) => void;
}

/**
 * Watches the link's credentials Secret (one object, by name) and reports each new kubeconfig once. Pointed at
 * another Secret, it drops the old watch and reports the new Secret's kubeconfig even when it is the same text.
 */
export class CredentialsWatch {
  private readonly options: CredentialsWatchOptions;
  private informer: Informer<CredentialsSecret> | undefined;
  private name: string | undefined;
  /** The kubeconfig last reported ("" for a missing Secret); undefined when the next one must be reported. */
  private reported: string | undefined;

  constructor(options: CredentialsWatchOptions) {
    this.options = options;
  }

  /** Whether a new kubeconfig replaces one reported before (a rotation), rather than being the first. */
  get hasReported(): boolean {
    return this.reported !== undefined;
  }

  /** Watches the named Secret (no-op when it is watched already). */
  watch(name: string): void {
    if (name === this.name) return;
    void this.informer?.stop();
    this.name = name;
    this.reported = undefined;
    const informer = new Informer<CredentialsSecret>({
      client: this.options.client,
      type: Resources.secrets,
      namespace: this.options.namespace,
      fieldSelector: `metadata.name=${name}`,
      transform: (raw) => compactSecret(raw),
      backoffMaxMs: 5000,
      logger: this.options.logger,
      name: "credentials secret",
    });
    informer.addHandlers({
      add: (s) => this.report(s),
      update: (_o, s) => this.report(s),
      delete: () => this.report(undefined),
    });
    this.informer = informer;
    informer.start();
    void informer.waitForSync(3_600_000).then(
      () => {
        if (this.informer === informer && informer.size === 0) this.report(undefined);
      },
      () => {},
    );
  }

  /** Reports the current Secret again (after a spec change that needs a new connection), once the watch knows it. */
  refresh(): void {
    this.reported = undefined;
    const informer = this.informer;
    if (!informer) return;
    const secret = informer.get(`${this.options.namespace}/${this.name}`);
    if (secret || informer.hasSynced) this.report(secret);
  }

  async stop(): Promise<void> {
    await this.informer?.stop();
  }

  private report(secret: CredentialsSecret | undefined): void {
    const kubeconfig = secret?.kubeconfig ?? "";
    if (kubeconfig === this.reported) return;
    this.options.onChange(secret);
    this.reported = kubeconfig;
  }
}
