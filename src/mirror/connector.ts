import type { KubeClient } from "../kube/client.ts";
import { backoffDelay } from "../kube/informer.ts";
import { Resources, servedVersion } from "../kube/resources.ts";
import type { Logger } from "../log.ts";
import { classifyTargetError } from "./credentials.ts";
import type { SliceVersion } from "./render.ts";
import { TargetWatch } from "./target.ts";
import { sleep } from "../sleep.ts";

/** What the target watches depend on; a change of any of it means new watches. */
export interface TargetConfig {
  client: KubeClient;
  selector: string | undefined;
  namespaces?: string[];
  peers?: { namespace: string; name: string };
  /** Carry the target's own MCS exports; its cluster id as the link names it. */
  mcs?: { cluster: string };
}

export interface TargetConnectorOptions {
  /** A target object changed (see TargetWatch). */
  onChange: (key: string, receivedAt: number) => void;
  /** New watches are synced and active (the previous ones, if any, are stopped). */
  onActive: (watch: TargetWatch, previous: TargetWatch | undefined) => void;
  /** Connecting failed; retried after `retryInMs`. The active watches, if any, stay. */
  onFailure: (err: unknown, retryInMs: number) => void;
  /** An error of the active watches (they retry on their own). */
  onWatchError?: (err: unknown) => void;
  /** The active watches connected or failed (see TargetWatch.healthy). */
  onHealthChange?: () => void;
  syncTimeoutMs?: number;
  watchBackoffMaxMs?: number;
  logger?: Logger;
}

/**
 * Owns the watches on the target cluster and replaces them when the credentials or the link's selection change:
 * the new client must list successfully and the new watches must sync before the old ones are dropped, so a bad
 * rotation (wrong token, missing RBAC, unreachable address) never costs the mirrors what the old client still sees.
 * Failures are retried with exponential backoff (shorter for an unreachable target than for refused credentials).
 */
export class TargetConnector {
  private readonly options: TargetConnectorOptions;
  private current: TargetWatch | undefined;
  private attempt: AbortController | undefined;
  private running: Promise<void> | undefined;

  constructor(options: TargetConnectorOptions) {
    this.options = options;
  }

  get active(): TargetWatch | undefined {
    return this.current;
  }

  /** Connects with a new configuration (cancelling a connection attempt still in progress). */
  connect(config: TargetConfig): void {
    this.attempt?.abort();
    const attempt = new AbortController();
    this.attempt = attempt;
    const previousRun = this.running;
    this.running = (async () => {
      await previousRun;
      await this.connectLoop(config, attempt.signal);
    })();
  }

  private async connectLoop(config: TargetConfig, signal: AbortSignal): Promise<void> {
    // The backoff grows per kind of failure: a server that is coming back answers 401/403 for a moment (before its
    // authorizer's caches are synced), which must not inherit the long streak of "unreachable" attempts and wait
    // the 30 s ceiling of refused credentials.
    let streak = { kind: "", attempt: 0 };
    while (!signal.aborted) {
      let candidate: TargetWatch | undefined;
      try {
        candidate = await this.open(config, signal);
        if (signal.aborted) {
          await candidate.stop();
          if (this.current?.client !== config.client) await config.client.close();
          return;
        }
        const previous = this.current;
        this.current = candidate;
        this.options.onActive(candidate, previous);
        await previous?.stop();
        if (previous && previous.client !== candidate.client) await previous.client.close();
        return;
      } catch (err) {
        await candidate?.stop();
        if (signal.aborted) {
          if (this.current?.client !== config.client) await config.client.close();
          return;
        }
        const kind = classifyTargetError(err);
        streak = { kind, attempt: streak.kind === kind ? streak.attempt + 1 : 0 };
        const ceiling = kind === "unreachable" ? 4000 : 30_000;
        const delay = Math.min(ceiling, backoffDelay(streak.attempt, 500, ceiling));
        this.options.onFailure(err, delay);
        await sleep(delay, signal);
      }
    }
  }

  /** Probes the target (version, rights) and syncs new watches; throws the first error. */
  private async open(config: TargetConfig, signal: AbortSignal): Promise<TargetWatch> {
    const { client, selector, namespaces, peers, mcs } = config;
    const sliceVersion: SliceVersion = await servedVersion(client, "discovery.k8s.io");
    if (selector !== undefined) {
      // Proves the credentials and the list right before anything is swapped.
      await client.list(Resources.services, namespaces?.[0], { labelSelector: selector, limit: 1 });
    }
    let firstError: ((err: unknown) => void) | undefined;
    const failed = new Promise<never>((_resolve, reject) => (firstError = reject));
    failed.catch(() => {});
    let synced = false;
    const watch = new TargetWatch({
      client,
      sliceVersion,
      selector,
      namespaces,
      peers,
      mcs,
      backoffMaxMs: this.options.watchBackoffMaxMs,
      logger: this.options.logger,
      onChange: (key, at) => {
        if (this.current === watch) this.options.onChange(key, at);
      },
      onHealthChange: () => {
        if (this.current === watch) this.options.onHealthChange?.();
      },
      onError: (err) => {
        if (!synced) firstError?.(err);
        else if (this.current === watch) this.options.onWatchError?.(err);
      },
    });
    watch.start();
    try {
      const aborted = new Promise<never>((_resolve, reject) =>
        signal.addEventListener("abort", () => reject(new Error("superseded")), { once: true }),
      );
      aborted.catch(() => {});
      await Promise.race([watch.waitForSync(this.options.syncTimeoutMs ?? 120_000), failed, aborted]);
      synced = true;
      return watch;
    } catch (err) {
      await watch.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.attempt?.abort();
    await this.running;
    await this.current?.stop();
    if (this.current) await this.current.client.close();
  }
}
