import type { ZoneSyncLinkSpec, ZoneSyncLinkStatus } from "../api/link.ts";
import {
  CRD_NAME,
  credentialsSecretName,
  LABEL_CONTROLLER_MODE,
  LABEL_LINK,
  LABEL_MIRRORED_FROM,
  SECRET_KEY_KUBECONFIG,
  SECRET_TYPE_REMOTE_KUBECONFIG,
} from "../api/names.ts";
import type { KubeObject } from "../kube/client.ts";
import { isForbidden } from "../kube/errors.ts";
import { endpointSliceType, Resources, servedVersion, type ResourceType } from "../kube/resources.ts";
import { parseRemoteKubeconfig, RemoteKubeconfigError } from "../api/remote-kubeconfig.ts";
import type { KubeconfigEntry } from "../kube/kubeconfig.ts";
import type { CheckClient } from "./client.ts";
import { readDeployedRelease, type HelmRelease } from "../helm/storage.ts";

/** A ZoneSyncLink as read from the API (not yet validated: `links.valid` does that). */
export interface LinkObject extends KubeObject {
  spec?: Partial<ZoneSyncLinkSpec>;
  status?: ZoneSyncLinkStatus;
}

export interface LinkRef {
  name: string;
  namespace: string;
  /** `<namespace>/<name>`: the subject name of per-link checks. */
  key: string;
  obj: LinkObject;
  spec: Partial<ZoneSyncLinkSpec>;
  /** The mode the link asks for (its `zonesync.io/controller-mode` label); chart unless labelled standalone. */
  wantedMode: "chart" | "standalone";
}

export type ControllerMode = "chart" | "standalone" | "unknown";

export interface DeploymentObject extends KubeObject {
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template?: {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec?: { containers?: Array<{ name: string; image?: string; args?: string[]; command?: string[] }> };
    };
  };
  status?: {
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
    observedGeneration?: number;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  };
}

/** A link controller Deployment, and the link it serves (label `zonesync.io/link` and its `--namespace` arg). */
export interface ControllerRef {
  name: string;
  namespace: string;
  link: string;
  linkNamespace: string;
  linkKey: string;
  mode: ControllerMode;
  obj: DeploymentObject;
}

export interface SecretObject extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

export interface Credentials {
  secretName: string;
  secret?: SecretObject;
  /** Why no usable kubeconfig was found; undefined when `entry` is set. */
  problem?: string;
  /** The kubeconfig's current context (under the credentials policy), with spec.apiServerAddress as its server. */
  entry?: KubeconfigEntry;
}

export interface LeaseObject extends KubeObject {
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number | null;
    acquireTime?: string | null;
    renewTime?: string | null;
  };
}

export interface ServiceObject extends KubeObject {
  spec?: { clusterIP?: string; selector?: Record<string, string> | null; ports?: unknown[] };
}

export interface SliceObject extends KubeObject {
  endpoints?: Array<{ addresses?: string[]; conditions?: { ready?: boolean | null } }> | null;
}

/** Builds a client for a target cluster from its credentials (see targetClientFor in clients.ts). */
export type TargetClientFactory = (entry: KubeconfigEntry) => CheckClient | Promise<CheckClient>;

export interface ContextOptions {
  /** The namespace of the links, the controllers' Leases and the Helm release. */
  namespace: string;
  release: string;
  /** `namespace/name` of the NGINX ConfigMap (else the release's manager.nginx.configMap). */
  nginxConfigMap?: string;
  /** `Kind/namespace/name` of the NGINX workload (else the release's manager.nginx.workload). */
  nginxWorkload?: string;
  targetClient: TargetClientFactory;
  /** Timeout of each network step (DNS, TCP, TLS) and target request, in ms. */
  timeoutMs: number;
  now: () => number;
  /** Every checked cluster must link to every other (`--expect-mesh`). */
  expectMesh: boolean;
}

/** Another cluster of the same run (for the `multicluster` checks). */
export interface Peer {
  context: string;
  server: string;
  ctx?: ClusterContext;
}

/**
 * Everything the checks read from one cluster, fetched at most once per run: every accessor is memoised, so two
 * checks that need the Deployments share one list call, and concurrent callers share the pending request.
 */
export class ClusterContext {
  readonly context: string;
  readonly client: CheckClient;
  readonly options: ContextOptions;
  /** Every context of the kubeconfig with its server (known without any call). */
  kubeconfigServers = new Map<string, string>();
  /** The other clusters checked in this run. */
  peers: Peer[] = [];
  /** Notes for the report (e.g. a list narrowed to the namespace for lack of RBAC). */
  readonly notes: string[] = [];
  private readonly memo = new Map<string, Promise<unknown>>();

  constructor(context: string, client: CheckClient, options: ContextOptions) {
    this.context = context;
    this.client = client;
    this.options = options;
  }

  get namespace(): string {
    return this.options.namespace;
  }

  now(): number {
    return this.options.now();
  }

  once<T>(key: string, load: () => Promise<T>): Promise<T> {
    let pending = this.memo.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = load();
      this.memo.set(key, pending);
    }
    return pending;
  }

  /**
   * A labelled list across every namespace, narrowed to the links' namespace when cluster-wide listing is
   * forbidden (a namespaced RBAC, e.g. inside the manager's pod).
   */
  private listWide<T extends KubeObject>(type: ResourceType, labelSelector: string): Promise<T[]> {
    return this.once(`list:${type.group}/${type.plural}?${labelSelector}`, async () => {
      try {
        return (await this.client.listAll<T>(type, undefined, { labelSelector })).items;
      } catch (err) {
        if (!isForbidden(err)) throw err;
        this.notes.push(`${type.plural} listed in ${this.namespace} only (no cluster-wide list permission)`);
        return (await this.client.listAll<T>(type, this.namespace, { labelSelector })).items;
      }
    });
  }

  /**
   * Starts the reads most checks need, all at once, so that a run costs one round trip to begin with rather than a
   * chain of them (CRD, then links, then controllers, …). Failures surface where the checks await them.
   */
  prefetch(options: { release: boolean; mirrors: boolean }): void {
    const loads: Array<Promise<unknown>> = [
      this.crd(),
      this.allLinks(),
      this.controllers(),
      this.leases(this.namespace),
      this.credentialSecrets(this.namespace),
    ];
    if (options.release) loads.push(this.release());
    if (options.mirrors) loads.push(this.mirrorServices(), this.mirrorSlices());
    for (const load of loads) load.catch(() => undefined);
  }

  crd(): Promise<KubeObject | undefined> {
    return this.once("crd", () => this.client.getOptional(Resources.crds, undefined, CRD_NAME));
  }

  /** Every ZoneSyncLink of the cluster (names must be unique across namespaces: mirrors are labelled by name). */
  allLinks(): Promise<LinkRef[]> {
    return this.once("links", async () => {
      const toRef = (obj: LinkObject): LinkRef => {
        const name = obj.metadata.name ?? "";
        const namespace = obj.metadata.namespace ?? "";
        return {
          name,
          namespace,
          key: `${namespace}/${name}`,
          obj,
          spec: obj.spec ?? {},
          wantedMode: obj.metadata.labels?.[LABEL_CONTROLLER_MODE] === "standalone" ? "standalone" : "chart",
        };
      };
      try {
        return (await this.client.listAll<LinkObject>(Resources.zoneSyncLinks)).items.map(toRef);
      } catch (err) {
        if (!isForbidden(err)) throw err;
        this.notes.push(`zonesynclinks listed in ${this.namespace} only (no cluster-wide list permission)`);
        return (await this.client.listAll<LinkObject>(Resources.zoneSyncLinks, this.namespace)).items.map(toRef);
      }
    });
  }

  /** The links of the namespace this check looks after. */
  async links(): Promise<LinkRef[]> {
    return (await this.allLinks()).filter((l) => l.namespace === this.namespace);
  }

  /** Link controller Deployments in every namespace, joined to links by name and namespace. */
  controllers(): Promise<ControllerRef[]> {
    return this.once("controllers", async () => {
      const deployments = await this.listWide<DeploymentObject>(Resources.deployments, LABEL_LINK);
      return deployments.map((obj): ControllerRef => {
        const namespace = obj.metadata.namespace ?? "";
        const link = obj.metadata.labels?.[LABEL_LINK] ?? "";
        const linkNamespace = namespaceArg(obj) ?? namespace;
        const label = obj.metadata.labels?.[LABEL_CONTROLLER_MODE];
        const mode: ControllerMode = label === "chart" || label === "standalone" ? label : "unknown";
        return {
          name: obj.metadata.name ?? "",
          namespace,
          link,
          linkNamespace,
          linkKey: `${linkNamespace}/${link}`,
          mode,
          obj,
        };
      });
    });
  }

  /** The controllers this check looks after: those serving links of the namespace, or running in it. */
  async localControllers(): Promise<ControllerRef[]> {
    return (await this.controllers()).filter(
      (c) => c.linkNamespace === this.namespace || c.namespace === this.namespace,
    );
  }

  async controllersOf(link: LinkRef): Promise<ControllerRef[]> {
    return (await this.controllers()).filter((c) => c.linkKey === link.key);
  }

  /** The Leases of a namespace, by name (one list rather than a GET per link). */
  leases(namespace: string): Promise<Map<string, LeaseObject>> {
    return this.once(`leases:${namespace}`, async () => {
      const items = (await this.client.listAll<LeaseObject>(Resources.leases, namespace)).items;
      return new Map(items.map((l) => [l.metadata.name ?? "", l]));
    });
  }

  /**
   * A Secret. Credentials Secrets written by `zonesync link` have their own type, so one list of that type per
   * namespace finds them all (rather than a GET per link); any other Secret is fetched by name.
   */
  secret(namespace: string, name: string): Promise<SecretObject | undefined> {
    return this.once(`secret:${namespace}/${name}`, async () => {
      const typed = await this.credentialSecrets(namespace);
      return typed.get(name) ?? this.client.getOptional<SecretObject>(Resources.secrets, namespace, name);
    });
  }

  /** The Secrets of the credentials type in a namespace, by name (one list). */
  credentialSecrets(namespace: string): Promise<Map<string, SecretObject>> {
    return this.once(`secrets:${namespace}`, async () => {
      const fieldSelector = `type=${SECRET_TYPE_REMOTE_KUBECONFIG}`;
      const items = (await this.client.listAll<SecretObject>(Resources.secrets, namespace, { fieldSelector })).items;
      return new Map(items.map((s) => [s.metadata.name ?? "", s]));
    });
  }

  /** The link's credentials Secret, its kubeconfig, and the server the controller will talk to. */
  credentials(link: LinkRef): Promise<Credentials> {
    return this.once(`credentials:${link.key}`, async () => {
      const secretName = link.spec.credentialsSecret ?? credentialsSecretName(link.spec.targetClusterName ?? link.name);
      const secret = await this.secret(link.namespace, secretName);
      if (!secret) return { secretName, problem: `Secret ${link.namespace}/${secretName} does not exist` };
      const encoded = secret.data?.[SECRET_KEY_KUBECONFIG];
      if (!encoded) {
        return {
          secretName,
          secret,
          problem: `Secret ${link.namespace}/${secretName} has no "${SECRET_KEY_KUBECONFIG}" key`,
        };
      }
      // The same policy as the link controller's: a Secret never makes check run a program or read a file.
      try {
        const remote = parseRemoteKubeconfig(Buffer.from(encoded, "base64").toString("utf8"), {
          allowInsecure: link.spec.insecureSkipTLSVerify === true,
          serverOverride: link.spec.apiServerAddress,
        });
        return { secretName, secret, entry: { ...remote, usesPlugin: false } };
      } catch (err) {
        const reason = err instanceof RemoteKubeconfigError ? err.message : "it cannot be read";
        return {
          secretName,
          secret,
          problem: `the "${SECRET_KEY_KUBECONFIG}" in Secret ${link.namespace}/${secretName} is not a usable kubeconfig: ${reason}`,
        };
      }
    });
  }

  /** A client for the link's target cluster (only once its credentials were found usable). */
  targetClient(link: LinkRef): Promise<CheckClient> {
    return this.once(`target:${link.key}`, async () => {
      const creds = await this.credentials(link);
      if (!creds.entry) throw new Error(creds.problem ?? "no credentials");
      return this.options.targetClient(creds.entry);
    });
  }

  /** The newest deployed revision of the Helm release, or undefined when it is not installed. */
  release(): Promise<HelmRelease | undefined> {
    return this.once("release", () => readDeployedRelease(this.client, this.namespace, this.options.release));
  }

  /** The EndpointSlice version the server offers (1.20 has only v1beta1). */
  sliceType(): Promise<ResourceType> {
    return this.once("sliceType", async () => endpointSliceType(await servedVersion(this.client, "discovery.k8s.io")));
  }

  /** Mirror Services (labelled with their link and source cluster), in every namespace. */
  mirrorServices(): Promise<ServiceObject[]> {
    return this.listWide<ServiceObject>(Resources.services, `${LABEL_LINK},${LABEL_MIRRORED_FROM}`);
  }

  /**
   * EndpointSlices written by link controllers (mirrors and zone-sync peer slices), in every namespace: selected by
   * the link and source-cluster labels the controller puts on each, like the mirror Services.
   */
  async mirrorSlices(): Promise<SliceObject[]> {
    const type = await this.sliceType();
    return this.listWide<SliceObject>(type, `${LABEL_LINK},${LABEL_MIRRORED_FROM}`);
  }
}

/** The `--namespace` argument of a link controller container, if it has one. */
export function namespaceArg(deployment: DeploymentObject): string | undefined {
  for (const container of deployment.spec?.template?.spec?.containers ?? []) {
    const args = [...(container.command ?? []), ...(container.args ?? [])];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      if (arg === "--namespace" || arg === "-n") return args[i + 1];
      if (arg.startsWith("--namespace=")) return arg.slice("--namespace=".length);
    }
  }
  return undefined;
}
