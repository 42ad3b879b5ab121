import { z } from "zod";
import type { ConditionType } from "../api/link.ts";
import type { KubeClient } from "../kube/client.ts";
import { conditionsEqual, kubeTime, setCondition, type Condition, type ConditionUpdate } from "../kube/conditions.ts";
import { updateWithRetry } from "../kube/conflict.ts";
import { describeError, isNotFound } from "../kube/errors.ts";
import { Resources } from "../kube/resources.ts";
import type { Logger } from "../log.ts";

/** The condition types the link controller owns; the manager's (Ready, ControllerReady) are never touched. */
export const OWN_CONDITIONS = [
  "Mirrored",
  "CredentialsValid",
  "TargetReachable",
] as const satisfies readonly ConditionType[];
export type OwnCondition = (typeof OWN_CONDITIONS)[number];

export interface MirrorStatus {
  conditions: Partial<Record<OwnCondition, Omit<ConditionUpdate, "type">>>;
  mirroredServices?: number;
  mirroredEndpoints?: number;
  /** Current totals by reason of what the target holds and is not mirrored (zeros included, so they clear). */
  droppedFromTarget?: Record<string, number>;
  /** The foreign objects that block mirrors (bounded, sorted); empty clears the list. */
  nameConflicts?: string[];
  lastSyncTime?: Date;
}

const LinkStatusSchema = z.object({
  metadata: z.looseObject({ resourceVersion: z.string().optional(), generation: z.number().optional() }),
  status: z
    .looseObject({
      conditions: z.array(z.looseObject({ type: z.string() })).nullish(),
      mirroredServices: z.number().nullish(),
      mirroredEndpoints: z.number().nullish(),
      droppedFromTarget: z.record(z.string(), z.number()).nullish(),
      nameConflicts: z.array(z.string()).nullish(),
      lastSyncTime: z.string().nullish(),
    })
    .nullish(),
});
type LinkStatusView = z.infer<typeof LinkStatusSchema>;

/** The status the link should have: ours merged into what it has (others' conditions kept as they are). */
export function mergeStatus(
  current: LinkStatusView,
  desired: MirrorStatus,
  now = new Date(),
): {
  conditions: Condition[];
  mirroredServices?: number;
  mirroredEndpoints?: number;
  /** Reasons at zero are null: a merge patch removes them. */
  droppedFromTarget?: Record<string, number | null>;
  /** An empty list is null: a merge patch removes it. */
  nameConflicts?: string[] | null;
  lastSyncTime?: string;
} {
  let conditions = (current.status?.conditions ?? []) as Condition[];
  for (const type of OWN_CONDITIONS) {
    const update = desired.conditions[type];
    if (update) {
      conditions = setCondition(conditions, { ...update, type, observedGeneration: current.metadata.generation }, now);
    }
  }
  return {
    conditions,
    ...(desired.mirroredServices !== undefined ? { mirroredServices: desired.mirroredServices } : {}),
    ...(desired.mirroredEndpoints !== undefined ? { mirroredEndpoints: desired.mirroredEndpoints } : {}),
    ...(desired.droppedFromTarget
      ? {
          droppedFromTarget: Object.fromEntries(
            Object.entries(desired.droppedFromTarget).map(([reason, n]) => [reason, n > 0 ? n : null]),
          ),
        }
      : {}),
    ...(desired.nameConflicts
      ? { nameConflicts: desired.nameConflicts.length > 0 ? desired.nameConflicts : null }
      : {}),
    ...(desired.lastSyncTime ? { lastSyncTime: kubeTime(desired.lastSyncTime) } : {}),
  };
}

/** True when writing `next` would change nothing. */
export function statusUnchanged(current: LinkStatusView, next: ReturnType<typeof mergeStatus>): boolean {
  const s = current.status ?? {};
  return (
    conditionsEqual(s.conditions as Condition[] | undefined, next.conditions) &&
    (next.mirroredServices === undefined || s.mirroredServices === next.mirroredServices) &&
    (next.mirroredEndpoints === undefined || s.mirroredEndpoints === next.mirroredEndpoints) &&
    (next.droppedFromTarget === undefined ||
      Object.entries(next.droppedFromTarget).every(([reason, n]) => (s.droppedFromTarget?.[reason] ?? null) === n)) &&
    (next.nameConflicts === undefined ||
      JSON.stringify(s.nameConflicts ?? null) === JSON.stringify(next.nameConflicts)) &&
    (next.lastSyncTime === undefined || s.lastSyncTime === next.lastSyncTime)
  );
}

export interface StatusWriterOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  /** The link as the informer last saw it (saves a GET per write). */
  cached: () => unknown;
  /** At most one write per this many milliseconds (default 1000). */
  minIntervalMs?: number;
  logger?: Logger;
  onError?: (err: unknown) => void;
}

/**
 * Writes the controller's part of the link status: its condition types, counts and lastSyncTime, read-modify-write
 * with the resourceVersion as precondition (a conflict re-reads and retries), so the manager's conditions written
 * meanwhile are never lost. Writes are coalesced and rate-limited, and skipped when nothing would change.
 */
export class StatusWriter {
  private readonly options: StatusWriterOptions;
  private desired: MirrorStatus = { conditions: {} };
  private timer: NodeJS.Timeout | undefined;
  private lastWrite = 0;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;

  constructor(options: StatusWriterOptions) {
    this.options = options;
  }

  /** Merges an update into the desired status and schedules a write. */
  update(update: Partial<MirrorStatus>): void {
    this.desired = {
      ...this.desired,
      ...update,
      conditions: { ...this.desired.conditions, ...(update.conditions ?? {}) },
    };
    this.dirty = true;
    this.schedule();
  }

  get current(): MirrorStatus {
    return this.desired;
  }

  private schedule(): void {
    if (this.timer || this.writing || this.stopped) return;
    const wait = Math.max(0, this.lastWrite + (this.options.minIntervalMs ?? 1000) - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writing = this.flush().finally(() => {
        this.writing = undefined;
        if (this.dirty) this.schedule();
      });
    }, wait);
    this.timer.unref();
  }

  /** Writes now if anything is pending; never throws. */
  async flush(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    this.lastWrite = Date.now();
    const { client, namespace, name } = this.options;
    try {
      const outcome = await updateWithRetry({
        cached: LinkStatusSchema.safeParse(this.options.cached()).data,
        read: async () => LinkStatusSchema.parse(await client.get(Resources.zoneSyncLinks, namespace, name)),
        attempts: 4,
        write: async (view) => {
          const next = mergeStatus(view, this.desired);
          if (statusUnchanged(view, next)) return false;
          await client.patch(
            Resources.zoneSyncLinks,
            namespace,
            name,
            { metadata: { resourceVersion: view.metadata.resourceVersion }, status: next },
            { strategy: "merge", subresource: "status" },
          );
          return true;
        },
      });
      if (outcome === "conflicted") this.dirty = true;
    } catch (err) {
      if (isNotFound(err)) return;
      this.dirty = true;
      this.options.logger?.warn("cannot write the link status", { link: name, error: describeError(err) });
      this.options.onError?.(err);
    }
  }

  /** Writes what is pending, then stops scheduling. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    await this.flush();
    this.stopped = true;
  }
}
