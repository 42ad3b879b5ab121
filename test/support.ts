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

/** Polls until `probe` returns a value that is not undefined/false, or fails with the last error after timeoutMs. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
}
