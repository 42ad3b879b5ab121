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

/** Parses `namespace/name`. */
export function parseServiceRef(flag: string, text: string): { namespace: string; name: string } {
  const [namespace, name, extra] = text.split("/");
  if (!namespace || !name || extra !== undefined) throw new Error(`${flag}: "${text}" is not namespace/name`);
  return { namespace, name };
}
