import type { KubeObject } from "../kube/client.ts";
import type { LabelSelector } from "../api/link.ts";
import {
  API_VERSION,
  credentialsSecretName,
  LABEL_CONTROLLER_MODE,
  LABEL_MANAGED_BY,
  LABEL_PART_OF,
  LINK_KIND,
  type ControllerMode,
} from "../api/names.ts";

export const DEFAULT_EXPORT_SELECTOR: LabelSelector = { matchLabels: { "zonesync.io/exported": "true" } };

export interface LinkOptions {
  clusterName: string;
  namespace: string;
  mode: ControllerMode;
  selector: LabelSelector;
  apiServerAddress?: string;
  namespaces?: string[];
  createNamespaces?: boolean;
  staleAfter?: string;
  zoneSync?: {
    targetPeerService: { namespace: string; name: string };
    localPeerService: { namespace: string; name: string };
    port?: number;
  };
}

/** The ZoneSyncLink for one target cluster. The mode label records how its controller is meant to be deployed. */
export function linkResource(options: LinkOptions): KubeObject {
  const spec: Record<string, unknown> = {
    targetClusterName: options.clusterName,
    credentialsSecret: credentialsSecretName(options.clusterName),
    selector: options.selector,
  };
  if (options.apiServerAddress) spec.apiServerAddress = options.apiServerAddress;
  if (options.namespaces?.length) spec.namespaces = options.namespaces;
  if (options.createNamespaces) spec.createNamespaces = true;
  if (options.staleAfter) spec.staleAfter = options.staleAfter;
  if (options.zoneSync) spec.zoneSync = options.zoneSync;
  return {
    apiVersion: API_VERSION,
    kind: LINK_KIND,
    metadata: {
      name: options.clusterName,
      namespace: options.namespace,
      labels: {
        [LABEL_PART_OF]: "zonesync",
        [LABEL_MANAGED_BY]: "zonesync",
        [LABEL_CONTROLLER_MODE]: options.mode,
      },
    },
    spec,
  };
}

/** Parses `k=v,k2=v2` into a matchLabels selector. */
export function parseSelectorFlag(text: string): LabelSelector {
  const matchLabels: Record<string, string> = {};
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error(`--selector: "${part}" is not key=value`);
    matchLabels[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  if (Object.keys(matchLabels).length === 0) throw new Error("--selector: no key=value pairs given");
  return { matchLabels };
}

/** Parses `namespace/name`. */
export function parseServiceRef(flag: string, text: string): { namespace: string; name: string } {
  const [namespace, name, extra] = text.split("/");
  if (!namespace || !name || extra !== undefined) throw new Error(`${flag}: "${text}" is not namespace/name`);
  return { namespace, name };
}
