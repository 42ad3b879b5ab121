import type { KubeObject } from "../kube/client.ts";
import { getCondition, setCondition, type Condition } from "../kube/conditions.ts";
import { LABEL_CONTROLLER_MODE, type ControllerMode } from "../api/names.ts";

/** Conditions the link controller reports; the manager folds them into Ready. */
const LINK_CONTROLLER_CONDITIONS = ["CredentialsValid", "TargetReachable", "Mirrored"] as const;

export interface DeploymentView extends KubeObject {
  spec?: { replicas?: number };
  status?: { availableReplicas?: number; updatedReplicas?: number; observedGeneration?: number; replicas?: number };
}

export interface ManagerStatusInput {
  generation?: number;
  /** The link's current status conditions (including those the link controller owns). */
  conditions?: Condition[];
  /** The link asks for a standalone controller (label zonesync.io/controller-mode: standalone). */
  wantsStandalone: boolean;
  /** Deployments labelled zonesync.io/link=<link>. */
  deployments: DeploymentView[];
  /** Problems that make the spec unusable (zod and semantic validation). */
  validationErrors: string[];
  /** The API server would refuse this link's controller objects (its entry is held back). */
  rejected?: string;
  /** The last helm upgrade failed with this message (the link's entry is still pending). */
  helmError?: string;
  /** GitOps mode: the deployed values lack this link's entry. */
  valuesOutOfDate?: boolean;
  valuesHash?: string;
}

export interface ManagerStatus {
  mode: ControllerMode;
  valuesHash?: string;
  observedGeneration?: number;
  /** Only the conditions the manager owns: Ready and ControllerReady. */
  conditions: Condition[];
}

export function modeOf(deployment: KubeObject): ControllerMode | undefined {
  const mode = deployment.metadata.labels?.[LABEL_CONTROLLER_MODE];
  return mode === "chart" || mode === "standalone" ? mode : undefined;
}

function controllerReadiness(deployment: DeploymentView | undefined): { ok: boolean; reason: string; message: string } {
  if (!deployment)
    return { ok: false, reason: "ControllerMissing", message: "no link controller Deployment exists yet" };
  const name = deployment.metadata.name;
  const desired = deployment.spec?.replicas ?? 1;
  if (desired === 0) return { ok: false, reason: "ScaledToZero", message: `Deployment ${name} has 0 replicas` };
  const available = deployment.status?.availableReplicas ?? 0;
  if (available < 1) {
    return {
      ok: false,
      reason: "ControllerUnavailable",
      message: `Deployment ${name} has no available replica (0/${desired})`,
    };
  }
  return {
    ok: true,
    reason: "ControllerAvailable",
    message: `Deployment ${name} has ${available}/${desired} available`,
  };
}

/**
 * The manager's part of a link's status: the mode, `ControllerReady` (the controller Deployment of the link's mode
 * is available) and `Ready` (everything the link needs holds, including the link controller's own conditions).
 */
export function computeManagerStatus(input: ManagerStatusInput, now: Date = new Date()): ManagerStatus {
  const mode: ControllerMode = input.wantsStandalone ? "standalone" : "chart";
  const own = input.deployments.find((d) => modeOf(d) === mode);
  const ready = controllerReadiness(own);
  const generation = input.generation;
  let conditions = (input.conditions ?? []).filter((c) => c.type === "Ready" || c.type === "ControllerReady");
  conditions = setCondition(
    conditions,
    {
      type: "ControllerReady",
      status: ready.ok,
      reason: ready.reason,
      message: ready.message,
      observedGeneration: generation,
    },
    now,
  );

  let readyUpdate: { ok: boolean; reason: string; message: string };
  const failing = LINK_CONTROLLER_CONDITIONS.map((t) => getCondition(input.conditions, t)).find(
    (c) => c && c.status === "False",
  );
  const missing = LINK_CONTROLLER_CONDITIONS.filter((t) => getCondition(input.conditions, t)?.status !== "True");
  if (input.validationErrors.length) {
    readyUpdate = { ok: false, reason: "InvalidSpec", message: input.validationErrors.join("; ") };
  } else if (input.rejected) {
    readyUpdate = { ok: false, reason: "RejectedByAPIServer", message: input.rejected };
  } else if (input.helmError) {
    readyUpdate = { ok: false, reason: "HelmUpgradeFailed", message: input.helmError };
  } else if (input.valuesOutOfDate) {
    readyUpdate = {
      ok: false,
      reason: "ValuesOutOfDate",
      message: "the deployed controllers: values lack this link (GitOps mode: commit the output of `zonesync values`)",
    };
  } else if (!ready.ok) {
    readyUpdate = ready;
  } else if (failing) {
    readyUpdate = { ok: false, reason: failing.reason, message: `${failing.type}: ${failing.message}` };
  } else if (missing.length) {
    readyUpdate = {
      ok: false,
      reason: "WaitingForLinkController",
      message: `the link controller has not reported ${missing.join(", ")} yet`,
    };
  } else {
    readyUpdate = { ok: true, reason: "Ready", message: "the link controller is available and mirroring" };
  }
  conditions = setCondition(
    conditions,
    {
      type: "Ready",
      status: readyUpdate.ok,
      reason: readyUpdate.reason,
      message: readyUpdate.message,
      observedGeneration: generation,
    },
    now,
  );
  return { mode, valuesHash: input.valuesHash, observedGeneration: generation, conditions };
}

/** True when applying `next` would change what the link's status already says (so unchanged status is never written). */
export function statusDiffers(current: Record<string, unknown> | undefined, next: ManagerStatus): boolean {
  if (!current) return true;
  if (current.mode !== next.mode || current.valuesHash !== next.valuesHash) return true;
  if (current.observedGeneration !== next.observedGeneration) return true;
  const conditions = (current.conditions as Condition[] | undefined) ?? [];
  return next.conditions.some((c) => {
    const existing = conditions.find((e) => e.type === c.type);
    return (
      !existing ||
      existing.status !== c.status ||
      existing.reason !== c.reason ||
      existing.message !== c.message ||
      existing.observedGeneration !== c.observedGeneration
    );
  });
}
