import type { KubeClient } from "../kube/client.ts";

/** What the checks need from a Kubernetes client: a few read methods of KubeClient (tests wrap them to record). */
export type CheckClient = Pick<KubeClient, "server" | "request" | "get" | "getOptional" | "listAll">;
