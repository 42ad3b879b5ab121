/** What an observation of the target's reachability changed; the controller turns each into an Event and work. */
export type ReachabilityChange =
  /** Unreachable (after being reachable, or never connected because the target cannot be reached). */
  | "unreachable"
  /** Reachable again after an announced outage. */
  | "recovered"
  /** Unreachable for staleAfter: mirrored endpoints are to be marked not ready. */
  | "stale"
  /** Reachable again while stale: mirrors are to be converged to the target's state. */
  | "fresh";

export interface ReachabilityObservation {
  /** Every watch on the target is connected. */
  reachable: boolean;
  /** The failure is one of reaching the target (not, say, refused credentials). */
  failureIsUnreachable: boolean;
  /** The link's staleAfter; undefined while no valid spec is known (then nothing is announced or marked). */
  staleAfterMs: number | undefined;
  /** Mirrors can be marked stale now (false while the controller cannot write them yet). */
  canMarkStale: boolean;
}

export interface ReachabilityResult {
  changes: ReachabilityChange[];
  /** Observe again after this long: the mirrors go stale then if nothing changes before. */
  recheckInMs?: number;
}

/**
 * The target's reachability over time: when it became unreachable, whether that was announced, whether the mirrors
 * are stale. Driven by observations (a watch connected or failed, the spec changed) and by the recheck the result
 * asks for; it keeps no timer, so it is a pure state machine over the times it is given.
 */
export class Reachability {
  private since: number | undefined;
  private isStale = false;
  private wasReachable = false;
  private announced = false;

  /** Unreachable from `now` until the first observation says otherwise (a fresh controller is not connected). */
  constructor(now: number) {
    this.since = now;
  }

  get unreachableSince(): number | undefined {
    return this.since;
  }

  get stale(): boolean {
    return this.isStale;
  }

  observe(now: number, observation: ReachabilityObservation): ReachabilityResult {
    const changes: ReachabilityChange[] = [];
    let recheckInMs: number | undefined;
    if (observation.reachable) {
      if (this.announced) changes.push("recovered");
      this.announced = false;
      this.since = undefined;
      if (this.isStale) changes.push("fresh");
      this.isStale = false;
    } else {
      this.since ??= now;
      const staleAfter = observation.staleAfterMs;
      const unreachable = this.wasReachable || observation.failureIsUnreachable;
      if (!this.announced && unreachable && staleAfter !== undefined) {
        this.announced = true;
        changes.push("unreachable");
      }
      if (!this.isStale && staleAfter !== undefined) {
        const dueIn = this.since + staleAfter - now;
        if (dueIn > 0) recheckInMs = dueIn;
        else if (observation.canMarkStale) {
          this.isStale = true;
          changes.push("stale");
        }
      }
    }
    this.wasReachable = observation.reachable;
    return { changes, recheckInMs };
  }
}
