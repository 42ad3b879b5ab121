import type { Outcome } from "./reconciler.ts";
import { parseServiceKey, PEERS_KEY } from "./target.ts";

/** What a recorded outcome changed that an operator is told about (once, not at every resync). */
export interface OutcomeNews {
  /** A foreign object started blocking the key's mirror (or another one now does). */
  nameConflict?: { object: string; message: string };
  /** The foreign object that blocked the key's mirror is gone. */
  nameConflictResolved?: string;
  /** The mirror waits for a namespace no Event was recorded for yet. */
  namespaceMissing?: string;
  /** The reason the key is skipped is new or its message changed. */
  skipChanged: boolean;
}

/**
 * The latest outcome of every work-queue key, and what derives from them: the counts in status and metrics, the
 * failing keys, the foreign objects that block mirrors, the namespaces mirrors wait for.
 */
export class OutcomeBook {
  private readonly outcomes = new Map<string, Outcome>();
  private readonly failing = new Map<string, string>();
  /** Work-queue key → the foreign object that blocks its mirror. */
  private readonly conflicts = new Map<string, string>();
  /** Namespaces a missing-namespace Event was recorded for, until the namespace appears. */
  private readonly announcedMissing = new Set<string>();

  private readonly peerNamespace: () => string | undefined;

  /** @param peerNamespace the local namespace the zone-sync peers are mirrored into, if any. */
  constructor(peerNamespace: () => string | undefined) {
    this.peerNamespace = peerNamespace;
  }

  get(key: string): Outcome | undefined {
    return this.outcomes.get(key);
  }

  get failures(): ReadonlyMap<string, string> {
    return this.failing;
  }

  record(key: string, outcome: Outcome): OutcomeNews {
    const previous = this.outcomes.get(key);
    this.failing.delete(key);
    if (!outcome.mirrored && !outcome.skipped) this.outcomes.delete(key);
    else this.outcomes.set(key, outcome);
    const skipped = outcome.skipped;
    const news: OutcomeNews = {
      skipChanged: skipped !== undefined && previous?.skipped?.message !== skipped.message,
    };
    const blocking = this.conflicts.get(key);
    if (skipped?.reason === "NameConflict") {
      const object = skipped.object ?? skipped.message;
      if (blocking !== object) {
        this.conflicts.set(key, object);
        news.nameConflict = { object, message: skipped.message };
      }
    } else if (blocking !== undefined) {
      this.conflicts.delete(key);
      news.nameConflictResolved = blocking;
    }
    if (skipped?.reason === "NamespaceMissing") {
      const namespace = this.namespaceOf(key);
      if (namespace && !this.announcedMissing.has(namespace)) {
        this.announcedMissing.add(namespace);
        news.namespaceMissing = namespace;
      }
    }
    return news;
  }

  /** Records a failed reconcile; returns the key's previous failure message, if it was failing already. */
  fail(key: string, message: string): string | undefined {
    const before = this.failing.get(key);
    this.failing.set(key, message);
    return before;
  }

  /** A namespace appeared: returns the keys that waited for it. */
  namespaceAppeared(namespace: string): string[] {
    this.announcedMissing.delete(namespace);
    const waiting: string[] = [];
    for (const [key, outcome] of this.outcomes) {
      if (outcome.skipped?.reason === "NamespaceMissing" && this.namespaceOf(key) === namespace) waiting.push(key);
    }
    return waiting;
  }

  clear(): void {
    this.outcomes.clear();
    this.conflicts.clear();
  }

  counts(): { services: number; endpoints: number } {
    let services = 0;
    let endpoints = 0;
    for (const [key, o] of this.outcomes) {
      if (!o.mirrored) continue;
      if (key !== PEERS_KEY) services++;
      endpoints += o.endpoints;
    }
    return { services, endpoints };
  }

  /** The foreign objects that block mirrors, sorted and distinct. */
  nameConflicts(): string[] {
    return [...new Set(this.conflicts.values())].sort();
  }

  /** The local namespaces mirrors wait for, sorted. */
  missingNamespaces(): string[] {
    const namespaces = new Set<string>();
    for (const [key, o] of this.outcomes) {
      if (o.skipped?.reason !== "NamespaceMissing") continue;
      const namespace = this.namespaceOf(key);
      if (namespace) namespaces.add(namespace);
    }
    return [...namespaces].sort();
  }

  private namespaceOf(key: string): string | undefined {
    return key === PEERS_KEY ? this.peerNamespace() : parseServiceKey(key)?.namespace;
  }
}
