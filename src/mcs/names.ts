import { LABEL_ENDPOINTSLICE_MANAGED_BY, LABEL_SERVICE_NAME } from "../api/names.ts";
import { MAX_SUBDOMAIN_NAME, shortenName, shortHash } from "../mirror/naming.ts";

/** Labels the MCS API gives an import's EndpointSlices. */
export const LABEL_MCS_SERVICE_NAME = "multicluster.kubernetes.io/service-name";
export const LABEL_MCS_SOURCE_CLUSTER = "multicluster.kubernetes.io/source-cluster";

/** `endpointslice.kubernetes.io/managed-by` of the slices the MCS controller writes for its own cluster's exports. */
export const MCS_SLICE_MANAGER = "mcs-controller.zonesync.io";
/** The export record (see record.ts) on every EndpointSlice of an import. */
export const ANNOTATION_MCS_EXPORT = "zonesync.io/mcs-export";
/** Marks the ServiceImports and derived Services the MCS controller made (never adopts one without it). */
export const LABEL_MCS_MANAGED = "zonesync.io/mcs";
/** The ClusterProperty (KEP-2149) naming this cluster in its clusterset. */
export const CLUSTER_ID_PROPERTY = "cluster.clusterset.k8s.io";

/** The local ClusterIP (or headless) Service behind an import: `<name>-mcs`, shortened to 63 characters. */
export function derivedServiceName(service: string): string {
  return shortenName(`${service}-mcs`);
}

/** The EndpointSlice of the derived Service that carries one source slice of one cluster's export. */
export function importSliceName(derived: string, cluster: string, sourceSlice: string): string {
  return `${shortenName(`${derived}-${cluster}`, MAX_SUBDOMAIN_NAME - 12)}-${shortHash(`${cluster}/${sourceSlice}`, 10)}`;
}

/** Labels every slice of an import carries; `managedBy` says which writer it belongs to. */
export function importSliceLabels(name: string, cluster: string, managedBy: string): Record<string, string> {
  return {
    [LABEL_SERVICE_NAME]: derivedServiceName(name),
    [LABEL_MCS_SERVICE_NAME]: name,
    [LABEL_MCS_SOURCE_CLUSTER]: cluster,
    [LABEL_ENDPOINTSLICE_MANAGED_BY]: managedBy,
  };
}
