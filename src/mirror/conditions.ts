import { describeTargetError, targetErrorReason } from "./credentials.ts";
import type { Outcome } from "./reconciler.ts";
import type { MirrorStatus } from "./status.ts";

type Conditions = Required<MirrorStatus["conditions"]>;

/** Everything the link controller's conditions depend on: a snapshot, so the conditions are a pure function of it. */
export interface LinkState {
  /** The Secret's kubeconfig is unusable, or the target refused it. */
  credentialsProblem?: { reason: string; message: string };
  /** Watches on the target are active (the target's state is known). */
  connected: boolean;
  /** The link accepts a kubeconfig that skips verifying the target's certificate (spec.insecureSkipTLSVerify). */
  insecureSkipTLSVerify?: boolean;
  /** Every active watch is connected. */
  reachable: boolean;
  /** Why the target is not reachable: the active watches' last error, else the last failed connect. */
  targetError?: unknown;
  /** When the target became unreachable (ms since the epoch); undefined when it is reachable. */
  unreachableSince?: number;
  /** Mirrored endpoints are marked not ready (unreachable past staleAfter). */
  stale: boolean;
  staleAfter?: string;
  /** The link's spec does not parse; the last valid one is in use. */
  invalidSpec?: readonly string[];
  /** Why the zone-sync peers are not mirrored, if they are not. */
  peersSkipped?: Outcome["skipped"];
  /** Work-queue keys whose reconcile keeps failing, with the last error. */
  failures: ReadonlyMap<string, string>;
  /** The foreign local objects that block mirrors (sorted, distinct). */
  nameConflicts: readonly string[];
  initialSyncDone: boolean;
  /** Exported Services over spec.maxServices. */
  overCap: readonly string[];
  maxServices: number;
  /** Namespaces missing here that mirrors wait for (sorted). */
  missingNamespaces: readonly string[];
}

const MAX_MESSAGE = 1000;

function list(items: readonly string[], shown: number): string {
  return `${items.slice(0, shown).join(", ")}${items.length > shown ? ", …" : ""}`;
}

function sourceName(key: string): string {
  return key.replace(/^svc:/, "");
}

/** The link controller's conditions (CredentialsValid, TargetReachable, Mirrored) for a state. */
export function linkConditions(state: LinkState): Conditions {
  return {
    CredentialsValid: credentialsValid(state),
    TargetReachable: targetReachable(state),
    Mirrored: mirrored(state),
  };
}

function credentialsValid(state: LinkState): Conditions["CredentialsValid"] {
  if (state.credentialsProblem) {
    return { status: false, reason: state.credentialsProblem.reason, message: state.credentialsProblem.message };
  }
  if (state.connected && state.insecureSkipTLSVerify) {
    return {
      status: true,
      reason: "InsecureSkipTLSVerify",
      message:
        "the target cluster accepts the credentials, but its certificate is NOT verified (spec.insecureSkipTLSVerify): " +
        "put its CA in the kubeconfig and unset it",
    };
  }
  if (state.connected) return { status: true, reason: "Valid", message: "the target cluster accepts the credentials" };
  return { status: "Unknown", reason: "Connecting", message: "not connected to the target cluster yet" };
}

function targetReachable(state: LinkState): Conditions["TargetReachable"] {
  if (state.connected && state.reachable) {
    return { status: true, reason: "Reachable", message: "every watch on the target cluster is connected" };
  }
  const err = state.targetError;
  if (!err) return { status: "Unknown", reason: "Connecting", message: "connecting to the target cluster" };
  const since = state.unreachableSince ? new Date(state.unreachableSince).toISOString() : "startup";
  const consequence = state.stale ? "mirrored endpoints are marked not ready" : "mirrors are kept";
  return {
    status: false,
    reason: targetErrorReason(err),
    message: `unreachable since ${since}: ${describeTargetError(err)}; ${consequence}`,
  };
}

function mirrored(state: LinkState): Conditions["Mirrored"] {
  if (state.invalidSpec) {
    return {
      status: false,
      reason: "InvalidSpec",
      message: `${state.invalidSpec.join("; ")}; still using the last valid spec`.slice(0, MAX_MESSAGE),
    };
  }
  if (state.peersSkipped?.reason === "InvalidSpec") {
    return { status: false, reason: "InvalidSpec", message: state.peersSkipped.message };
  }
  if (!state.connected) {
    return { status: false, reason: "NotConnected", message: "not connected to the target cluster yet" };
  }
  if (state.stale) {
    return {
      status: false,
      reason: "Stale",
      message: `the target cluster is unreachable past staleAfter (${state.staleAfter}): endpoints marked not ready`,
    };
  }
  const firstFailure = state.failures.entries().next();
  if (!firstFailure.done) {
    const [key, error] = firstFailure.value;
    return {
      status: false,
      reason: "SyncFailed",
      message: `${state.failures.size} failing (retried with backoff), e.g. ${sourceName(key)}: ${error}`.slice(
        0,
        MAX_MESSAGE,
      ),
    };
  }
  if (state.nameConflicts.length > 0) {
    return {
      status: false,
      reason: "NameConflict",
      message:
        `${state.nameConflicts.length} local object(s) have a mirror's name but were not created by this link and ` +
        `are left alone: ${list(state.nameConflicts, 5)}; delete or rename them and mirroring resumes by itself`,
    };
  }
  if (!state.initialSyncDone) return { status: false, reason: "InitialSync", message: "initial sync in progress" };
  if (state.overCap.length > 0) {
    return {
      status: false,
      reason: "ServicesOverCap",
      message:
        `${state.overCap.length} exported Services are over spec.maxServices (${state.maxServices}) and not ` +
        `mirrored, e.g. ${list(state.overCap, 3)}; raise spec.maxServices or narrow spec.selector`,
    };
  }
  if (state.missingNamespaces.length > 0) {
    return {
      status: false,
      reason: "NamespaceMissing",
      message: `not mirrored, namespaces missing here: ${list(state.missingNamespaces, 5)} (spec.createNamespaces is false)`,
    };
  }
  return { status: true, reason: "Synced", message: "every exported Service is mirrored" };
}
