import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { KubeClient } from "../src/kube/client.ts";
import { Resources } from "../src/kube/resources.ts";
import type { SharedClusterInfo, SharedEnvironment } from "./env/index.ts";

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

export async function createNamespace(client: KubeClient, name: string): Promise<void> {
  await client.create(Resources.namespaces, { metadata: { name, labels: { "zonesync.io/test": "true" } } });
}

export { eventually } from "./env/wait.ts";
