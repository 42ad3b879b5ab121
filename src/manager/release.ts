import { canonicalJson, mergeControllersIntoValues, renderControllerEntries, valuesHash } from "../api/render.ts";
import type { ZoneSyncLink } from "../api/link.ts";
import type { ControllerEntry } from "../api/values.ts";

/** The release as Helm's storage holds it, read right before each decision. */
export interface ReleaseSnapshot {
  /** The newest revision, whatever its status; undefined when the release does not exist. */
  latest?: {
    revision: number;
    /** deployed, failed, superseded, pending-install, pending-upgrade, pending-rollback… */
    status: string;
    /** When its operation started (ms since the epoch), if known. */
    startedAt?: number;
    /** The manager's operation label on this revision and on the one before it (see MANAGER_OPERATION_LABEL). */
    operation?: string;
    previousOperation?: string;
  };
  /** The newest deployed revision and its user-supplied values. */
  deployed?: { revision: number; values: Record<string, unknown> };
}

/** What the manager needs from Helm for its release. */
export interface ReleaseBackend {
  snapshot(): Promise<ReleaseSnapshot>;
  /**
   * `helm upgrade --install` with exactly these values, its revision labelled with `operation` (a value unique to
   * this upgrade); returns the new revision.
   */
  upgrade(
    values: Record<string, unknown>,
    options: { operation: string; signal?: AbortSignal },
  ): Promise<{ revision?: number }>;
  /** `helm rollback` to this revision. */
  rollback(revision: number, options: { signal?: AbortSignal }): Promise<void>;
}

/**
 * The release label the manager puts on each of its upgrades, with a value of its own per upgrade. Helm merges a
 * release's labels into the next revision, so an upgrade made by someone else carries the previous revision's value
 * unchanged: a pending revision whose value differs from its predecessor's is the manager's.
 */
export const MANAGER_OPERATION_LABEL = "zonesync.io/manager-operation";

/** A release left pending-* by an operation that died: what was done about it. */
export interface Recovery {
  revision: number;
  status: string;
  rolledBackTo: number;
  /** The manager's own interrupted upgrade, or someone else's that stayed pending past the bound. */
  by: "manager" | "someone else";
}

export type ReleaseOutcome =
  | { action: "unchanged"; hash: string; entries: ControllerEntry[]; recovered?: Recovery }
  | {
      action: "upgraded";
      hash: string;
      previousHash?: string;
      entries: ControllerEntry[];
      /** Names of the entries this upgrade added or changed (removed ones have no link left to tell). */
      changed: string[];
      revision?: number;
      recovered?: Recovery;
    }
  | { action: "out-of-date"; hash: string; deployedHash?: string; entries: ControllerEntry[] }
  /** Someone else's operation is in progress on the release: nothing is done until it ends (or is stuck). */
  | { action: "waiting"; hash: string; entries: ControllerEntry[]; message: string; retryAfterMs: number };

/** Which of the named links' entries the API server would refuse, with its message (see entry-check.ts). */
export type EntryValidator = (
  values: Record<string, unknown>,
  links: readonly string[],
) => Promise<Map<string, string>>;

/** The release cannot be upgraded and the manager cannot repair it on its own. */
export class ReleaseBlockedError extends Error {
  override readonly name = "ReleaseBlockedError";
}

const MAX_ATTEMPTS = 3;

/**
 * Keeps the release's `controllers:` values equal to what the links render, and nothing else: every other value is
 * read from the newest *deployed* revision right before each decision (a person's `helm upgrade --reuse-values --set
 * …` survives), and Helm runs only when the values really changed (hash of the canonical JSON, sorted keys). A
 * failed revision is not the deployed one, so its values are retried. A revision left pending-* by a dead helm
 * process is rolled back to the last deployed revision first: at once when it was the manager's own (the leader
 * runs one upgrade at a time, so none of its own can still be running), after `stuckAfterMs` when it was someone
 * else's. If the release moved between the read and the upgrade, the values are rendered again.
 */
export class ReleaseReconciler {
  private readonly backend: ReleaseBackend;
  private readonly baseValues: Record<string, unknown>;
  private readonly apply: boolean;
  private readonly stuckAfterMs: number;
  private readonly now: () => number;
  private deployed: Record<string, unknown> | undefined;
  private deployedKnown = false;
  private operations = 0;
  private readonly validate: EntryValidator | undefined;
  /** Verdicts on entries already checked (entry and the rest of the values → the API server's message, or ""). */
  private readonly verdicts = new Map<string, string>();
  private lastRejected = new Map<string, string>();

  constructor(options: {
    backend: ReleaseBackend;
    baseValues?: Record<string, unknown>;
    apply: boolean;
    /** Someone else's pending operation older than this is taken as dead (default: 10 min, twice Helm's default timeout). */
    stuckAfterMs?: number;
    now?: () => number;
    /** Checks new and changed entries before they go into the shared upgrade (per-link isolation). */
    validate?: EntryValidator;
  }) {
    this.validate = options.validate;
    this.backend = options.backend;
    this.baseValues = options.baseValues ?? {};
    this.apply = options.apply;
    this.stuckAfterMs = options.stuckAfterMs ?? 600_000;
    this.now = options.now ?? Date.now;
  }

  get deployedHash(): string | undefined {
    return this.deployedKnown && this.deployed ? valuesHash(this.deployed) : undefined;
  }

  /** Links whose new entry the API server would refuse, with its message, as of the last reconcile. */
  get rejected(): ReadonlyMap<string, string> {
    return this.lastRejected;
  }

  /** The entries the deployed release holds (for GitOps status), when known. */
  get deployedEntries(): ControllerEntry[] | undefined {
    return this.deployedKnown ? ((this.deployed?.controllers as ControllerEntry[] | undefined) ?? []) : undefined;
  }

  async reconcile(links: readonly ZoneSyncLink[], signal?: AbortSignal): Promise<ReleaseOutcome> {
    const rendered = renderControllerEntries(links);
    let entries = rendered;
    let recovered: Recovery | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let snapshot = await this.backend.snapshot();
      const pending = snapshot.latest?.status.startsWith("pending-") ? snapshot.latest : undefined;
      if (pending && this.apply) {
        const ours = pending.operation !== undefined && pending.operation !== pending.previousOperation;
        const age = pending.startedAt === undefined ? Infinity : this.now() - pending.startedAt;
        if (!ours && age < this.stuckAfterMs) {
          this.remember(snapshot);
          const hash = valuesHash(mergeControllersIntoValues(this.deployed ?? this.baseValues, entries));
          return {
            action: "waiting",
            hash,
            entries,
            message: `revision ${pending.revision} is ${pending.status}: someone else's helm operation is in progress`,
            retryAfterMs: Math.min(30_000, this.stuckAfterMs - age),
          };
        }
        if (!snapshot.deployed) {
          throw new ReleaseBlockedError(
            `revision ${pending.revision} is ${pending.status} and no revision was ever deployed: nothing to roll back ` +
              `to; remove the release (helm uninstall) or finish its installation by hand`,
          );
        }
        signal?.throwIfAborted();
        await this.backend.rollback(snapshot.deployed.revision, { signal });
        recovered = {
          revision: pending.revision,
          status: pending.status,
          rolledBackTo: snapshot.deployed.revision,
          by: ours ? "manager" : "someone else",
        };
        snapshot = await this.backend.snapshot();
      }
      this.remember(snapshot);
      entries = await this.isolateRejected(rendered);
      const desired = mergeControllersIntoValues(this.deployed ?? this.baseValues, entries) as Record<string, unknown>;
      const hash = valuesHash(desired);
      const deployedHash = this.deployed ? valuesHash(this.deployed) : undefined;
      if (hash === deployedHash) return { action: "unchanged", hash, entries, recovered };
      if (!this.apply) return { action: "out-of-date", hash, deployedHash, entries };
      // The narrowest window Helm allows: if the release moved since it was read, render from the new state.
      const latestBefore = snapshot.latest?.revision;
      if ((await this.backend.snapshot()).latest?.revision !== latestBefore) continue;
      const before = new Map(
        ((this.deployed?.controllers as ControllerEntry[] | undefined) ?? []).map((e) => [e.name, canonicalJson(e)]),
      );
      const changed = entries.filter((e) => before.get(e.name) !== canonicalJson(e)).map((e) => e.name);
      signal?.throwIfAborted();
      const { revision } = await this.backend.upgrade(desired, { operation: this.nextOperation(), signal });
      this.deployed = desired;
      return { action: "upgraded", hash, previousHash: deployedHash, entries, changed, revision, recovered };
    }
    throw new Error(`the release changed under the manager ${MAX_ATTEMPTS} times in a row; retrying`);
  }

  /**
   * New and changed entries go through the validator; a rejected one is replaced by the link's deployed entry (its
   * last good one) or left out, so one bad link never fails the upgrade of the others.
   */
  private async isolateRejected(entries: ControllerEntry[]): Promise<ControllerEntry[]> {
    const rejected = new Map<string, string>();
    this.lastRejected = rejected;
    if (!this.validate || !this.apply) return entries;
    const deployedEntries = new Map(
      ((this.deployed?.controllers as ControllerEntry[] | undefined) ?? []).map((e) => [e.name, e]),
    );
    const rest = canonicalJson({ ...(this.deployed ?? this.baseValues), controllers: undefined });
    const keyOf = (e: ControllerEntry) => `${canonicalJson(e)}\n${rest}`;
    const changed = entries.filter((e) => canonicalJson(deployedEntries.get(e.name) ?? null) !== canonicalJson(e));
    const unknown = changed.filter((e) => !this.verdicts.has(keyOf(e)));
    if (unknown.length > 0) {
      const candidate = mergeControllersIntoValues(this.deployed ?? this.baseValues, entries) as Record<
        string,
        unknown
      >;
      const found = await this.validate(
        candidate,
        unknown.map((e) => e.name),
      );
      if (this.verdicts.size > 10_000) this.verdicts.clear();
      for (const e of unknown) this.verdicts.set(keyOf(e), found.get(e.name) ?? "");
    }
    for (const e of changed) {
      const message = this.verdicts.get(keyOf(e));
      if (message) rejected.set(e.name, message);
    }
    if (rejected.size === 0) return entries;
    return entries
      .map((e) => (rejected.has(e.name) ? deployedEntries.get(e.name) : e))
      .filter((e): e is ControllerEntry => e !== undefined);
  }

  private remember(snapshot: ReleaseSnapshot): void {
    this.deployed = snapshot.deployed?.values;
    this.deployedKnown = true;
  }

  /** Unique per upgrade, and different from any a previous leader wrote (a label value: digits and dashes). */
  private nextOperation(): string {
    this.operations += 1;
    return `${this.now()}-${process.pid}-${this.operations}`;
  }
}
