import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startClusters, type Cluster, type Clusters, type StartOptions } from "./clusters.ts";
import { PodSimulator, type SimulatorOptions } from "./simulator.ts";

export { startClusters, kubeconfigYaml, type Cluster, type Clusters } from "./clusters.ts";
export { PodSimulator } from "./simulator.ts";

export interface Environment extends Clusters {
  simulators: Record<string, PodSimulator>;
}

/** Clusters plus a pod simulator in each: what integration tests and `npm start` run on. */
export async function startEnvironment(
  names: string[],
  options: StartOptions & { simulator?: SimulatorOptions } = {},
): Promise<Environment> {
  const clusters = await startClusters(names, options);
  const simulators: Record<string, PodSimulator> = {};
  try {
    await Promise.all(
      Object.values(clusters.clusters).map(async (cluster: Cluster) => {
        const sim = new PodSimulator(cluster, {
          ...options.simulator,
          extraEnv: { HELM_BIN: clusters.binaries.helm4, ...options.simulator?.extraEnv },
        });
        await sim.start();
        simulators[cluster.name] = sim;
      }),
    );
  } catch (err) {
    await Promise.all(Object.values(simulators).map((s) => s.stop()));
    await clusters.stop();
    throw err;
  }
  return {
    ...clusters,
    simulators,
    stop: async () => {
      await Promise.all(Object.values(simulators).map((s) => s.stop()));
      await clusters.stop();
    },
  };
}

/** What a test worker needs to reach the shared clusters (plain data, passed through vitest's provide/inject). */
export interface SharedClusterInfo {
  name: string;
  index: number;
  server: string;
  caPem: string;
  adminToken: string;
  kubeconfigPath: string;
  podIpPrefix: string;
  serviceCidr: string;
  podCidr: string;
  dir: string;
}

export interface SharedEnvironment {
  kubeconfigPath: string;
  clusters: Record<string, SharedClusterInfo>;
  helm4: string;
  helm3: string;
  kubectl: string;
}

export function shareable(env: Clusters): SharedEnvironment {
  const clusters = Object.fromEntries(
    Object.values(env.clusters).map((c) => [
      c.name,
      {
        name: c.name,
        index: c.index,
        server: c.server,
        caPem: c.caPem,
        adminToken: c.adminToken,
        kubeconfigPath: c.kubeconfigPath,
        podIpPrefix: c.podIpPrefix,
        serviceCidr: c.serviceCidr,
        podCidr: c.podCidr,
        dir: c.dir,
      },
    ]),
  );
  return {
    kubeconfigPath: env.kubeconfigPath,
    clusters,
    helm4: env.binaries.helm4,
    helm3: env.binaries.helm3,
    kubectl: env.binaries.kubectl,
  };
}

export function writeKubeconfigCopy(env: Clusters, path: string, content: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, content, { mode: 0o600 });
}
