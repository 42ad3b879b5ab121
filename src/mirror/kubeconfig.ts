import { KubeConfig, type RequestContext } from "@kubernetes/client-node";
import type { Dispatcher } from "undici";
import { KubeClient } from "../kube/client.ts";

/**
 * A KubeConfig that builds its undici dispatcher (TLS connection pool) once per cluster and user, instead of once
 * per request as client-node 2.0 does: with a fresh dispatcher each request opens a new TLS connection (and leaves
 * the old one to the garbage collector), which caps writes at ~60/s on the 2-core test machine against ~210/s with
 * connections reused. The proper place for this is src/kube/client.ts; until it does it, the link controller builds
 * its clients with this class.
 */
export class PooledKubeConfig extends KubeConfig {
  private readonly dispatchers = new Map<string, Dispatcher>();

  /** As client-node's, but the request gets the pooled dispatcher (the fresh, still unconnected one is dropped). */
  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher() as Dispatcher | undefined;
    if (!fresh) return;
    const cluster = this.getCurrentCluster();
    const key = JSON.stringify([cluster?.name, cluster?.server, this.getCurrentUser()?.name]);
    const pooled = this.dispatchers.get(key);
    if (pooled) context.setDispatcher(pooled as unknown as Parameters<RequestContext["setDispatcher"]>[0]);
    else this.dispatchers.set(key, fresh);
  }

  /** Closes the pooled connections (the client must not be used afterwards). */
  async close(): Promise<void> {
    const all = [...this.dispatchers.values()];
    this.dispatchers.clear();
    await Promise.all(all.map((d) => d?.close().catch(() => {})));
  }
}

/** A client over a pooled copy of `kc` (its clusters, users, contexts and current context). */
export function pooledClient(kc: KubeConfig): KubeClient {
  const pooled = new PooledKubeConfig();
  pooled.loadFromOptions({
    clusters: kc.clusters,
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return new KubeClient(pooled);
}

/** Closes a client's pooled connections, if it has any. */
export async function closeClient(client: KubeClient): Promise<void> {
  if (client.kubeConfig instanceof PooledKubeConfig) await client.kubeConfig.close();
}
