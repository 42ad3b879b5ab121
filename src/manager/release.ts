import { canonicalJson, mergeControllersIntoValues, renderControllerEntries, valuesHash } from "../api/render.ts";
import type { ZoneSyncLink } from "../api/link.ts";
import type { ControllerEntry } from "../api/values.ts";

/** What the manager needs from Helm for its release. */
export interface ReleaseBackend {
  /** The user-supplied values of the deployed release; undefined when the release does not exist. */
  deployedValues(): Promise<Record<string, unknown> | undefined>;
  /** `helm upgrade --install` with exactly these values; returns the new revision. */
  upgrade(values: Record<string, unknown>): Promise<{ revision?: number }>;
}

export type ReleaseOutcome =
  | { action: "unchanged"; hash: string; entries: ControllerEntry[] }
  | {
      action: "upgraded";
      hash: string;
      previousHash?: string;
      entries: ControllerEntry[];
      /** Names of the entries this upgrade added or changed (removed ones have no link left to tell). */
      changed: string[];
      revision?: number;
    }
  | { action: "out-of-date"; hash: string; deployedHash?: string; entries: ControllerEntry[] };

/**
 * Keeps the release's `controllers:` values equal to what the links render, and calls Helm only when the values
 * really changed: the hash of the canonical JSON of the full values (sorted keys) is compared with the hash of the
 * deployed values, which are read from Helm once and then remembered after each successful upgrade.
 */
export class ReleaseReconciler {
  private readonly backend: ReleaseBackend;
  private readonly baseValues: Record<string, unknown>;
  private readonly apply: boolean;
  private readonly maxAgeMs: number;
  private deployed: Record<string, unknown> | undefined;
  private deployedKnown = false;
  private readAt = 0;

  /**
   * `maxAgeMs`: re-read the deployed values when the remembered copy is older than this, so an upgrade made by
   * someone else (a person, a GitOps tool) is noticed (default 60 s).
   */
  constructor(options: {
    backend: ReleaseBackend;
    baseValues?: Record<string, unknown>;
    apply: boolean;
    maxAgeMs?: number;
  }) {
    this.backend = options.backend;
    this.baseValues = options.baseValues ?? {};
    this.apply = options.apply;
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
  }

  /** Forget the remembered deployed values (e.g. after a failure, or when someone else may have upgraded). */
  invalidate(): void {
    this.deployedKnown = false;
  }

  get deployedHash(): string | undefined {
    return this.deployedKnown && this.deployed ? valuesHash(this.deployed) : undefined;
  }

  /** The entries the deployed release holds (for GitOps status), when known. */
  get deployedEntries(): ControllerEntry[] | undefined {
    return this.deployedKnown ? ((this.deployed?.controllers as ControllerEntry[] | undefined) ?? []) : undefined;
  }

  async reconcile(links: readonly ZoneSyncLink[]): Promise<ReleaseOutcome> {
    if (!this.deployedKnown || Date.now() - this.readAt > this.maxAgeMs) {
      this.deployed = await this.backend.deployedValues();
      this.deployedKnown = true;
      this.readAt = Date.now();
    }
    const entries = renderControllerEntries(links);
    const desired = mergeControllersIntoValues(this.deployed ?? this.baseValues, entries) as Record<string, unknown>;
    const hash = valuesHash(desired);
    const deployedHash = this.deployed ? valuesHash(this.deployed) : undefined;
    if (hash === deployedHash) return { action: "unchanged", hash, entries };
    if (!this.apply) return { action: "out-of-date", hash, deployedHash, entries };
    const before = new Map(
      ((this.deployed?.controllers as ControllerEntry[] | undefined) ?? []).map((e) => [e.name, canonicalJson(e)]),
    );
    const changed = entries.filter((e) => before.get(e.name) !== canonicalJson(e)).map((e) => e.name);
    try {
      const { revision } = await this.backend.upgrade(desired);
      this.deployed = desired;
      return { action: "upgraded", hash, previousHash: deployedHash, entries, changed, revision };
    } catch (err) {
      this.invalidate();
      throw err;
    }
  }
}
