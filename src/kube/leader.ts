import { z } from "zod";
import type { Logger } from "../log.ts";
import type { KubeClient } from "./client.ts";
import { describeError, isAlreadyExists, isConflict, isNotFound } from "./errors.ts";
import { apiVersionOf, resourcePath, Resources } from "./resources.ts";
import { sleep } from "../sleep.ts";

const leaseSchema = z.object({
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional(), resourceVersion: z.string() }),
  spec: z
    .looseObject({
      holderIdentity: z.string().nullish(),
      leaseDurationSeconds: z.number().int().nullish(),
      acquireTime: z.string().nullish(),
      renewTime: z.string().nullish(),
      leaseTransitions: z.number().int().nullish(),
    })
    .default({}),
});
type Lease = z.infer<typeof leaseSchema>;

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export interface LeaderElectorOptions {
  /** Only `request` is used (GET/PUT/POST of the Lease), so tests can pass an in-memory API server. */
  client: Pick<KubeClient, "request">;
  /** The Lease, e.g. `zonesync-link-<name>`. */
  name: string;
  namespace: string;
  /** Unique per candidate, e.g. the pod name. */
  identity: string;
  /** How long a Lease holds without renewal (default 15; whole seconds, as the Lease stores it). */
  leaseDurationSeconds?: number;
  /** A leader that could not renew for this long steps down (default 10; below the lease duration). */
  renewDeadlineSeconds?: number;
  /** How often candidates try to acquire and the leader renews (default 2). */
  retryPeriodSeconds?: number;
  /** Called when this candidate becomes leader; `signal` aborts when leadership ends. */
  onStartedLeading?: (signal: AbortSignal) => void | Promise<void>;
  /** Called when leadership ends (lost, or stop); awaited before the Lease is released, so work stops first. */
  onStoppedLeading?: () => void | Promise<void>;
  /** Called when the observed leader changes (including to this candidate). */
  onNewLeader?: (identity: string) => void;
  logger?: Logger;
}

/** What a request may still take before `deadline` (at least 1 ms: a passed deadline fails at once). */
function remaining(deadline: number): number {
  return Math.max(1, deadline - Date.now());
}

/** The parts of a Lease whose change shows that its holder is alive (client-go's LeaderElectionRecord). */
function recordOf(spec: Lease["spec"]): string {
  return JSON.stringify([
    spec.holderIdentity ?? "",
    spec.leaseDurationSeconds ?? 0,
    spec.acquireTime ?? "",
    spec.renewTime ?? "",
    spec.leaseTransitions ?? 0,
  ]);
}

/**
 * Lease-based leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics:
 * - Expiry is judged by the local clock only: a held Lease expires leaseDuration after this candidate last saw its
 *   record change, never by comparing the holder's renewTime with the local time (clocks of two nodes differ).
 * - The leader renews every retry period; one renew round (every attempt in it, each read and write) has one
 *   deadline, renewDeadline from its start. A round that ends without success ends the leadership.
 * - Every write is a replace with the read resourceVersion, so of two candidates racing exactly one wins.
 * - A leader that sees another holder steps down at once.
 * - `stop()` ends leadership (signal aborted), keeps the Lease renewed while onStoppedLeading winds the work down,
 *   then releases it (holder emptied, duration 1 s) so a successor takes over at once. A stop during an acquire
 *   never starts leading.
 */
export class LeaderElector {
  readonly identity: string;
  private readonly options: LeaderElectorOptions;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private leading = false;
  private observedLeader: string | undefined;
  /** The Lease record as last seen, and when (local clock): the basis of expiry. */
  private observedRecord: string | undefined;
  private observedTime = 0;
  private release = true;

  constructor(options: LeaderElectorOptions) {
    this.options = options;
    this.identity = options.identity;
    const leaseSeconds = options.leaseDurationSeconds ?? 15;
    if (!Number.isInteger(leaseSeconds) || leaseSeconds < 1)
      throw new RangeError(`leaseDurationSeconds must be a whole number ≥ 1, got ${leaseSeconds}`);
    this.leaseMs = leaseSeconds * 1000;
    this.renewDeadlineMs = (options.renewDeadlineSeconds ?? 10) * 1000;
    this.retryMs = (options.retryPeriodSeconds ?? 2) * 1000;
    if (!(this.renewDeadlineMs < this.leaseMs))
      throw new RangeError("renewDeadline must be shorter than leaseDuration");
    if (!(this.retryMs > 0 && this.retryMs < this.renewDeadlineMs))
      throw new RangeError("retryPeriod must be positive and shorter than renewDeadline");
  }

  get isLeader(): boolean {
    return this.leading;
  }
  /** The holder of the Lease as last observed (this candidate's identity while leading). */
  get leader(): string | undefined {
    return this.observedLeader;
  }

  /** Starts campaigning in the background. */
  start(): void {
    if (this.loop) return;
    this.loop = this.run();
  }

  /**
   * Stops campaigning. A leader first ends its leadership (signal aborted, onStoppedLeading awaited), then — unless
   * `release: false`, which simulates a crash — releases the Lease.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.release = options.release ?? true;
    this.stopping.abort();
    await this.loop;
  }

  private get log(): Logger | undefined {
    return this.options.logger;
  }

  private async run(): Promise<void> {
    const stop = this.stopping.signal;
    while (!stop.aborted) {
      const attemptStarted = Date.now();
      if (!(await this.tryAcquireOrRenew(attemptStarted + this.renewDeadlineMs))) {
        await sleep(this.retryMs * (1 + Math.random() * 0.2), stop);
        continue;
      }
      if (stop.aborted) {
        // Stopped while acquiring: never lead; give the Lease back.
        if (this.release) await this.releaseLease();
        return;
      }
      await this.lead();
    }
  }

  /** Leads until the Lease is lost or stop() is called. */
  private async lead(): Promise<void> {
    const stop = this.stopping.signal;
    const leadership = new AbortController();
    this.leading = true;
    this.log?.info("became leader", { lease: this.options.name, identity: this.identity });
    try {
      const started = this.options.onStartedLeading?.(leadership.signal);
      if (started) {
        started.catch((err: unknown) =>
          this.log?.error("onStartedLeading failed", { lease: this.options.name, error: describeError(err) }),
        );
      }
    } catch (err) {
      this.log?.error("onStartedLeading failed", { lease: this.options.name, error: describeError(err) });
    }
    while (!stop.aborted) {
      await sleep(this.retryMs, stop);
      if (stop.aborted) break;
      if ((await this.renewRound(stop)) === "lost") {
        this.log?.warn("lost leadership", { lease: this.options.name, identity: this.identity, holder: this.leader });
        break;
      }
    }
    this.leading = false;
    leadership.abort(new Error("leadership ended"));
    // Stopping (not lost): the Lease stays ours, renewed, until the work has wound down.
    const windingDown = new AbortController();
    const holding = stop.aborted && this.release ? this.keepRenewing(windingDown.signal) : undefined;
    try {
      await this.options.onStoppedLeading?.();
    } catch (err) {
      this.log?.error("onStoppedLeading failed", { lease: this.options.name, error: describeError(err) });
    }
    windingDown.abort();
    await holding;
    if (stop.aborted && this.release) await this.releaseLease();
  }

  /**
   * One renew round: attempts every retry period until one succeeds, all within one deadline (renewDeadline from
   * the round's start, which also bounds every request). Lost when the deadline passes or another holder shows.
   */
  private async renewRound(stop: AbortSignal): Promise<"renewed" | "lost" | "stopped"> {
    const deadline = Date.now() + this.renewDeadlineMs;
    for (;;) {
      if (await this.tryAcquireOrRenew(deadline)) return "renewed";
      if (stop.aborted) return "stopped";
      if (this.observedLeader !== undefined && this.observedLeader !== this.identity) return "lost";
      const left = deadline - Date.now();
      if (left <= 0) return "lost";
      await sleep(Math.min(this.retryMs, left), stop);
      if (stop.aborted) return "stopped";
      if (Date.now() >= deadline) return "lost";
    }
  }

  /** Renews every retry period until `done` aborts (while a stopping leader's work winds down). */
  private async keepRenewing(done: AbortSignal): Promise<void> {
    while (!done.aborted) {
      await sleep(this.retryMs, done);
      if (done.aborted) return;
      await this.tryAcquireOrRenew(Date.now() + this.renewDeadlineMs);
    }
  }

  private async getLease(deadline: number): Promise<Lease | undefined> {
    const path = resourcePath(Resources.leases, this.options.namespace, this.options.name);
    try {
      const raw = await this.options.client.request<unknown>("GET", path, { timeoutMs: remaining(deadline) });
      return leaseSchema.parse(raw);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async writeLease(lease: Lease | undefined, spec: Lease["spec"], deadline: number): Promise<Lease> {
    const { client, name, namespace } = this.options;
    const body = {
      apiVersion: apiVersionOf(Resources.leases),
      kind: Resources.leases.kind,
      metadata: lease ? { ...lease.metadata } : { name, namespace },
      spec,
    };
    const raw = lease
      ? await client.request<unknown>("PUT", resourcePath(Resources.leases, namespace, name), {
          body,
          timeoutMs: remaining(deadline),
        })
      : await client.request<unknown>("POST", resourcePath(Resources.leases, namespace), {
          body,
          timeoutMs: remaining(deadline),
        });
    return leaseSchema.parse(raw);
  }

  private observe(lease: Lease | undefined): void {
    const record = lease ? recordOf(lease.spec) : undefined;
    if (record !== this.observedRecord) {
      this.observedRecord = record;
      this.observedTime = Date.now();
    }
    const holder = lease?.spec.holderIdentity || undefined;
    if (holder !== this.observedLeader) {
      this.observedLeader = holder;
      if (holder) this.options.onNewLeader?.(holder);
    }
  }

  /** A held Lease is valid until leaseDuration after its record last changed, as seen on the local clock. */
  private heldByOtherAndValid(lease: Lease | undefined, now: number): boolean {
    const spec = lease?.spec;
    if (!spec?.holderIdentity || spec.holderIdentity === this.identity) return false;
    return this.observedTime + (spec.leaseDurationSeconds ?? 0) * 1000 > now;
  }

  /** One attempt, all its requests within `deadline`; true when this candidate holds the Lease afterwards. Never throws. */
  private async tryAcquireOrRenew(deadline: number): Promise<boolean> {
    try {
      const lease = await this.getLease(deadline);
      this.observe(lease);
      const now = new Date();
      if (this.heldByOtherAndValid(lease, now.getTime())) return false;
      const spec = lease?.spec ?? {};
      const mine = spec.holderIdentity === this.identity;
      const written = await this.writeLease(
        lease,
        {
          ...spec,
          holderIdentity: this.identity,
          leaseDurationSeconds: this.leaseMs / 1000,
          acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(now),
          renewTime: microTime(now),
          leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? -1) + 1,
        },
        deadline,
      );
      this.observe(written);
      return true;
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err)) {
        this.log?.debug("lost the race for the lease", { lease: this.options.name, identity: this.identity });
        // Somebody else wrote first; the next attempt reads who.
        this.observedLeader = this.observedLeader === this.identity ? undefined : this.observedLeader;
      } else {
        this.log?.warn("cannot acquire or renew the lease", {
          lease: this.options.name,
          identity: this.identity,
          error: describeError(err),
        });
      }
      return false;
    }
  }

  /** Empties the holder and shortens the duration, if this candidate still holds the Lease. */
  private async releaseLease(): Promise<void> {
    const deadline = Date.now() + this.renewDeadlineMs;
    try {
      const lease = await this.getLease(deadline);
      if (!lease || lease.spec.holderIdentity !== this.identity) return;
      const now = microTime(new Date());
      const written = await this.writeLease(
        lease,
        {
          ...lease.spec,
          holderIdentity: "",
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
        },
        deadline,
      );
      this.observe(written);
      this.log?.info("released the lease", { lease: this.options.name, identity: this.identity });
    } catch (err) {
      this.log?.warn("cannot release the lease; it expires on its own", {
        lease: this.options.name,
        error: describeError(err),
      });
    }
  }
}
