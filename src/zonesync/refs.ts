/**
 * The two references the zone-sync controller is configured with, as the manager's flags spell them:
 * `--nginx-configmap <namespace>/<name>` and `--nginx-workload <kind>/<namespace>/<name>`.
 */
import { Resources, type ResourceType } from "../kube/resources.ts";
import { isDnsLabel, isDnsSubdomain } from "./values.ts";

export interface ConfigMapRef {
  namespace: string;
  name: string;
}

export const WORKLOAD_KINDS = ["Deployment", "DaemonSet", "StatefulSet"] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

/** Accepted spellings of each kind: the kind in any case, and kubectl's short and plural names. */
const KIND_ALIASES: Record<string, WorkloadKind> = {
  deployment: "Deployment",
  deployments: "Deployment",
  deploy: "Deployment",
  daemonset: "DaemonSet",
  daemonsets: "DaemonSet",
  ds: "DaemonSet",
  statefulset: "StatefulSet",
  statefulsets: "StatefulSet",
  sts: "StatefulSet",
};

/** The REST resource of a workload kind. */
export function workloadResource(kind: WorkloadKind): ResourceType {
  switch (kind) {
    case "Deployment":
      return Resources.deployments;
    case "DaemonSet":
      return Resources.daemonSets;
    case "StatefulSet":
      return Resources.statefulSets;
  }
}

function checkNamespace(what: string, input: string, namespace: string): void {
  if (!isDnsLabel(namespace)) {
    throw new Error(
      `${what} ${JSON.stringify(input)}: namespace ${JSON.stringify(namespace)} is not a valid namespace name (a lowercase DNS label: a-z, 0-9 and '-', at most 63 characters)`,
    );
  }
}

function checkName(what: string, input: string, name: string): void {
  if (!isDnsSubdomain(name)) {
    throw new Error(
      `${what} ${JSON.stringify(input)}: name ${JSON.stringify(name)} is not a valid object name (a lowercase DNS name: a-z, 0-9, '-' and '.', at most 253 characters)`,
    );
  }
}

/** Parses `<namespace>/<name>` (the value of `--nginx-configmap`); throws an Error that says what is expected. */
export function parseConfigMapRef(value: string, flag = "--nginx-configmap"): ConfigMapRef {
  const input = value.trim();
  const parts = input.split("/");
  const [namespace, name] = parts;
  if (parts.length !== 2 || !namespace || !name) {
    throw new Error(`${flag} ${JSON.stringify(value)}: expected <namespace>/<name>, for example nginx/nginx-config`);
  }
  checkNamespace(flag, value, namespace);
  checkName(flag, value, name);
  return { namespace, name };
}

/**
 * Parses `<kind>/<namespace>/<name>` (the value of `--nginx-workload`), kind one of Deployment, DaemonSet or
 * StatefulSet in any case, or kubectl's short names (deploy, ds, sts); throws an Error that says what is expected.
 */
export function parseWorkloadRef(value: string, flag = "--nginx-workload"): WorkloadRef {
  const input = value.trim();
  const parts = input.split("/");
  const [kindText, namespace, name] = parts;
  if (parts.length !== 3 || !kindText || !namespace || !name) {
    throw new Error(
      `${flag} ${JSON.stringify(value)}: expected <kind>/<namespace>/<name> with kind ${WORKLOAD_KINDS.join(", ")}, for example Deployment/nginx/nginx-ingress`,
    );
  }
  const kind = KIND_ALIASES[kindText.toLowerCase()];
  if (kind === undefined) {
    throw new Error(
      `${flag} ${JSON.stringify(value)}: kind ${JSON.stringify(kindText)} is not supported; use ${WORKLOAD_KINDS.join(", ")} (or deploy, ds, sts)`,
    );
  }
  checkNamespace(flag, value, namespace);
  checkName(flag, value, name);
  return { kind, namespace, name };
}

export const formatConfigMapRef = (ref: ConfigMapRef): string => `${ref.namespace}/${ref.name}`;
export const formatWorkloadRef = (ref: WorkloadRef): string => `${ref.kind}/${ref.namespace}/${ref.name}`;
