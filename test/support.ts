import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { KubeClient } from "../src/kube/client.ts";
import type { SharedClusterInfo, SharedEnvironment } from "./env/index.ts";
import { ensureNamespace } from "./env/namespaces.ts";

export function sharedEnv(): SharedEnvironment {
  return inject("env");
}

export function cluster(name: string): SharedClusterInfo {
  const info = sharedEnv().clusters[name];
  if (!info) throw new Error(`no shared cluster named ${name}`);
  return info;
}

export function adminClient(name: string): KubeClient {
  return KubeClient.load({ kubeconfig: cluster(name).kubeconfigPath });
}

/** A unique, valid namespace name for one test. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString("hex")}`;
}

/** Creates a namespace for one test and waits until pods can be created in it. */
export async function createNamespace(client: KubeClient, name: string): Promise<void> {
  await ensureNamespace(client, name);
}

export { eventually, KUBE_CONTROLLERS_MS } from "./env/wait.ts";
