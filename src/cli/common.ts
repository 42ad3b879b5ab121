import { existsSync } from "node:fs";
import { stringify } from "yaml";
import { KubeClient, type KubeObject } from "../kube/client.ts";
import { KubeApiError } from "../kube/errors.ts";
import { resourceForObject } from "../kube/resources.ts";
import type { Logger } from "../log.ts";
import { UsageError } from "./errors.ts";

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
}

/** A client for one context; a missing kubeconfig or an unknown context is a usage error (exit 2). */
export function clientFor(flags: ClusterFlags, role = "cluster"): KubeClient {
  const path = flags.kubeconfig ?? process.env.KUBECONFIG?.split(":")[0];
  if (path && !existsSync(path)) throw new UsageError(`kubeconfig ${path} does not exist`);
  try {
    return KubeClient.load({ kubeconfig: flags.kubeconfig, context: flags.context });
  } catch (err) {
    throw new UsageError(`cannot use the ${role} context ${flags.context ?? "(current)"}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Turns an API failure into a sentence a person can act on. */
export function explainKubeError(err: unknown, what: string, context?: string): Error {
  if (err instanceof KubeApiError) {
    const where = context ? ` in context ${context}` : "";
    if (err.status === 0)
      return new Error(`${what}: the cluster${where} is unreachable (${err.message})`, { cause: err });
    if (err.status === 401)
      return new Error(`${what}: the credentials${where} were rejected (401 Unauthorized)`, { cause: err });
    if (err.status === 403)
      return new Error(`${what}: missing RBAC permission${where}: ${err.serverMessage || err.message}`, {
        cause: err,
      });
  }
  return new Error(`${what}: ${(err as Error).message}`, { cause: err });
}

/** Multi-document YAML for `kubectl apply -f -`. */
export function toYaml(objects: KubeObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
}

/** Server-side applies manifests in order (namespaces and RBAC before what needs them). */
export async function applyAll(
  client: KubeClient,
  objects: KubeObject[],
  fieldManager = "zonesync-cli",
): Promise<void> {
  for (const obj of objects) {
    await client.apply(resourceForObject(obj), obj, { fieldManager });
  }
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Runs a long-lived controller until SIGTERM or SIGINT: starts it, and on a signal (or a failed start) stops it,
 * then closes its health server and client, once. A failed start is thrown with `what` and its cause.
 */
export async function runUntilSignal(parts: {
  controller: { start(): Promise<void>; stop(): Promise<void> };
  health: { close(): Promise<void> };
  client: { close(): Promise<void> | void };
  logger: Logger;
  what: string;
}): Promise<void> {
  const { controller, health, client, logger } = parts;
  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string): Promise<void> => {
    stopping ??= (async () => {
      logger.info("shutting down", { signal });
      await controller.stop();
      await health.close();
      await client.close();
    })();
    return stopping;
  };
  const done = new Promise<void>((resolve) => {
    for (const signal of ["SIGTERM", "SIGINT"] as const)
      process.once(signal, () => void shutdown(signal).then(resolve));
  });
  try {
    await controller.start();
  } catch (err) {
    await shutdown("startup failure");
    throw new Error(`${parts.what} could not start`, { cause: err });
  }
  await done;
}
