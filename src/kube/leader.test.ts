import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { KubeClient, RequestOptions } from "./client.ts";
import { KubeApiError } from "./errors.ts";
import { LeaderElector, microTime } from "./leader.ts";
import { resourcePath, Resources } from "./resources.ts";
import { sleep } from "../sleep.ts";

describe("lease helpers", () => {
  it("writes MicroTime with six fractional digits", () => {
    expect(microTime(new Date("2024-05-06T07:08:09.123Z"))).toBe("2024-05-06T07:08:09.123000Z");
  });
});

const NAMESPACE = "zonesync";
const NAME = "zonesync-link-test";
const COLLECTION = resourcePath(Resources.leases, NAMESPACE);
const OBJECT = resourcePath(Resources.leases, NAMESPACE, NAME);
const T0 = Date.parse("2024-05-06T07:00:00.000Z");

/** The MicroTime `ms` after T0, as the elector writes it. */
const at = (ms: number): string => microTime(new Date(T0 + ms));
const elapsed = (): number => Date.now() - T0;
/** Moves the fake clock to `ms` after T0, firing due timers and settling the promise chains they start. */
const advanceTo = async (ms: number): Promise<void> => {
  await vi.advanceTimersByTimeAsync(T0 + ms - Date.now());
};

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}
interface StoredLease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion: string };
  spec: LeaseSpec;
}

/** An error answer with a Status body, built as KubeClient.request builds it. */
function statusError(method: string, path: string, status: number, reason: string, message: string): KubeApiError {
  return new KubeApiError(`${method} ${path}: ${status} ${message}`, status, reason, method, path);
}

/** One Lease on an in-memory API server: replaces must carry the current resourceVersion, as on the real one. */
class LeaseServer {
  lease: StoredLease | undefined;
  /** Every request, as "<ms after T0> <method>". */
  readonly calls: string[] = [];
  /** Every error answer, as "<method> <reason>". */
  readonly refused: string[] = [];
  readonly unexpected: string[] = [];
  private version = 0;

  /** Writes the Lease directly, as another process would. */
  seed(spec: LeaseSpec): void {
    this.store({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: NAME, namespace: NAMESPACE },
      spec,
    });
  }

  answer(method: string, path: string, body: unknown): StoredLease {
    this.calls.push(`${elapsed()} ${method}`);
    try {
      return structuredClone(this.handle(method, path, body as StoredLease));
    } catch (err) {
      if (err instanceof KubeApiError) this.refused.push(`${method} ${err.reason}`);
      throw err;
    }
  }

  private handle(method: string, path: string, sent: StoredLease): StoredLease {
    const notFound = (): KubeApiError =>
      statusError(method, path, 404, "NotFound", `leases.coordination.k8s.io "${NAME}" not found`);
    if (method === "GET" && path === OBJECT) {
      if (!this.lease) throw notFound();
      return this.lease;
    }
    if (method === "POST" && path === COLLECTION && sent.metadata.name === NAME) {
      if (this.lease) {
        throw statusError(method, path, 409, "AlreadyExists", `leases.coordination.k8s.io "${NAME}" already exists`);
      }
      return this.store(sent);
    }
    if (method === "PUT" && path === OBJECT && sent.metadata.name === NAME) {
      if (!this.lease) throw notFound();
      if (sent.metadata.resourceVersion !== this.lease.metadata.resourceVersion) {
        throw statusError(
          method,
          path,
          409,
          "Conflict",
          `Operation cannot be fulfilled on leases.coordination.k8s.io "${NAME}": the object has been modified; please apply your changes to the latest version and try again`,
        );
      }
      return this.store(sent);
    }
    this.unexpected.push(`${method} ${path}`);
    throw statusError(method, path, 405, "MethodNotAllowed", "unexpected request");
  }

  private store(sent: { metadata: object } & Omit<StoredLease, "metadata">): StoredLease {
    const metadata = { name: NAME, namespace: NAMESPACE, resourceVersion: String(++this.version) };
    this.lease = { ...structuredClone(sent), metadata };
    return this.lease;
  }
}

/** One candidate's connection to the server, failing like KubeClient.request when `fault` cuts it off. */
class Connection implements Pick<KubeClient, "request"> {
  /** "refuse": every request fails at once; "hang": every request times out after its timeoutMs. */
  fault: "refuse" | "hang" | undefined;
  /** Every answer takes this long (a slow API server); past the request's timeoutMs it times out instead. */
  delayMs = 0;
  private readonly server: LeaseServer;

  constructor(server: LeaseServer) {
    this.server = server;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const fault = this.fault;
    await Promise.resolve(); // answers arrive asynchronously, so concurrent candidates interleave
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (fault === "hang") await sleep(timeoutMs);
    if (!fault && this.delayMs > 0) {
      await sleep(Math.min(this.delayMs, timeoutMs));
      if (this.delayMs > timeoutMs) {
        throw new KubeApiError(`${method} ${path}: cannot reach https://fake`, 0, "Unreachable", method, path, {
          cause: new Error(`timed out after ${timeoutMs} ms`),
        });
      }
    }
    if (fault) {
      throw new KubeApiError(`${method} ${path}: cannot reach https://fake`, 0, "Unreachable", method, path, {
        cause: new TypeError("fetch failed"),
      });
    }
    return this.server.answer(method, path, options.body) as T;
  }
}

interface Candidate {
  elector: LeaderElector;
  connection: Connection;
  /** onNewLeader calls. */
  leaders: string[];
  /** Lets onStoppedLeading return, for a candidate made with `holdStop`. */
  finishStopping: () => void;
}

let server: LeaseServer;
/** "<ms after T0> start|abort|stop <identity>": onStartedLeading, its signal aborting, onStoppedLeading. */
let log: string[];
let candidates: Candidate[];

/** A candidate with the default timing (lease 15 s, renew deadline 10 s, retry 2 s) unless given a lease duration. */
function candidate(identity: string, options: { leaseDurationSeconds?: number; holdStop?: boolean } = {}): Candidate {
  const connection = new Connection(server);
  const leaders: string[] = [];
  const stopping = Promise.withResolvers<void>();
  if (!options.holdStop) stopping.resolve();
  const elector = new LeaderElector({
    client: connection,
    name: NAME,
    namespace: NAMESPACE,
    identity,
    leaseDurationSeconds: options.leaseDurationSeconds,
    onStartedLeading: (signal) => {
      log.push(`${elapsed()} start ${identity}`);
      signal.addEventListener("abort", () => log.push(`${elapsed()} abort ${identity}`));
    },
    onStoppedLeading: async () => {
      log.push(`${elapsed()} stop ${identity}`);
      await stopping.promise;
    },
    onNewLeader: (holder) => leaders.push(holder),
  });
  const made = { elector, connection, leaders, finishStopping: stopping.resolve };
  candidates.push(made);
  return made;
}

describe("LeaderElector", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    vi.spyOn(Math, "random").mockReturnValue(0); // no jitter: candidates retry exactly every retry period
    server = new LeaseServer();
    log = [];
    candidates = [];
  });

  afterEach(async () => {
    for (const c of candidates) c.finishStopping();
    const stopped = Promise.all(candidates.map((c) => c.elector.stop({ release: false })));
    await vi.advanceTimersByTimeAsync(30_000); // lets hanging requests time out
    await stopped;
    vi.useRealTimers();
    vi.restoreAllMocks();
    expect(server.unexpected).toEqual([]);
  });

  it("creates a missing Lease and renews it every retry period, keeping acquireTime and leaseTransitions", async () => {
    const a = candidate("a");
    a.elector.start();
    await advanceTo(0);
    expect(a.elector.isLeader).toBe(true);
    expect(server.lease).toEqual({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: NAME, namespace: NAMESPACE, resourceVersion: "1" },
      spec: {
        holderIdentity: "a",
        leaseDurationSeconds: 15,
        acquireTime: at(0),
        renewTime: at(0),
        leaseTransitions: 0,
      },
    });

    await advanceTo(1999);
    expect(server.lease?.spec.renewTime).toBe(at(0));
    await advanceTo(2000);
    expect(server.lease?.spec).toEqual({
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      acquireTime: at(0),
      renewTime: at(2000),
      leaseTransitions: 0,
    });
    await advanceTo(10_000);
    expect(server.lease?.metadata.resourceVersion).toBe("6");
    expect(server.lease?.spec).toMatchObject({ acquireTime: at(0), renewTime: at(10_000), leaseTransitions: 0 });
    expect(log).toEqual(["0 start a"]);
    expect(a.leaders).toEqual(["a"]);
    expect(a.elector.leader).toBe("a");
  });

  it.each([
    { clock: "behind (renewTime an hour ago)", renewTime: at(-3_600_000) },
    { clock: "ahead (renewTime in an hour)", renewTime: at(3_600_000) },
  ])(
    "judges another holder's Lease by its own clock, whatever the holder's is $clock: taken leaseDuration after it stopped changing",
    async ({ renewTime }) => {
      server.seed({
        holderIdentity: "old",
        leaseDurationSeconds: 20,
        acquireTime: renewTime,
        renewTime,
        leaseTransitions: 3,
      });
      const held = structuredClone(server.lease);
      const b = candidate("b");
      b.elector.start(); // first sees the record at 0 s, tries every 2 s

      await advanceTo(18_000);
      expect(b.elector.isLeader).toBe(false);
      expect(b.elector.leader).toBe("old");
      expect(server.lease).toEqual(held);

      await advanceTo(20_000);
      expect(b.elector.isLeader).toBe(true);
      expect(server.lease?.spec).toEqual({
        holderIdentity: "b",
        leaseDurationSeconds: 15,
        acquireTime: at(20_000),
        renewTime: at(20_000),
        leaseTransitions: 4,
      });
      expect(b.leaders).toEqual(["old", "b"]);
      expect(log).toEqual(["20000 start b"]);
    },
  );

  it("never takes a Lease whose holder keeps renewing, however old its clock says the renewals are", async () => {
    const b = candidate("b");
    for (let t = 0; t <= 60_000; t += 3000) {
      server.seed({ holderIdentity: "old", leaseDurationSeconds: 15, renewTime: at(t - 3_600_000) });
      await advanceTo(t);
      expect(b.elector.isLeader).toBe(false);
      if (t === 0) b.elector.start();
    }
    expect(log).toEqual([]);
  });

  it("takes over from a crashed leader (no release) exactly leaseDuration after it last saw the Lease change", async () => {
    const a = candidate("a");
    const b = candidate("b");
    a.elector.start();
    await advanceTo(1000);
    b.elector.start(); // tries at 1 s, 3 s, 5 s, ...
    await advanceTo(5000);
    expect(b.elector.leader).toBe("a");
    // Last renewed at 4 s, which b saw at its try at 5 s: b waits until 5 + 15 s, and takes it at its try at 21 s.
    await a.elector.stop({ release: false });
    expect(server.lease?.spec).toMatchObject({ holderIdentity: "a", renewTime: at(4000) });

    await advanceTo(19_000);
    expect(b.elector.isLeader).toBe(false);
    await advanceTo(21_000);
    expect(b.elector.isLeader).toBe(true);
    expect(server.lease?.spec).toEqual({
      holderIdentity: "b",
      leaseDurationSeconds: 15,
      acquireTime: at(21_000),
      renewTime: at(21_000),
      leaseTransitions: 1,
    });
    expect(log).toEqual(["0 start a", "5000 abort a", "5000 stop a", "21000 start b"]);
    expect(b.leaders).toEqual(["a", "b"]);
  });

  it.each(["refuse", "hang"] as const)(
    "steps down after renewDeadline without renewal (requests %s), before a successor can take the Lease",
    async (fault) => {
      const a = candidate("a");
      const b = candidate("b");
      a.elector.start();
      await advanceTo(1000);
      b.elector.start();
      await advanceTo(5000);
      a.connection.fault = fault; // a is cut off after renewing at 4 s; b still reaches the API server

      await advanceTo(15_999);
      expect(a.elector.isLeader).toBe(true);
      expect(log).toEqual(["0 start a"]);
      await advanceTo(16_000);
      expect(a.elector.isLeader).toBe(false);
      expect(log).toEqual(["0 start a", "16000 abort a", "16000 stop a"]);
      expect(server.lease?.spec).toMatchObject({ holderIdentity: "a", renewTime: at(4000) });

      await advanceTo(19_000);
      expect(b.elector.isLeader).toBe(false);
      await advanceTo(21_000);
      expect(b.elector.isLeader).toBe(true);
      expect(log).toEqual(["0 start a", "16000 abort a", "16000 stop a", "21000 start b"]);
    },
  );

  it("bounds a whole renew round by one deadline: a slow API server cannot keep a leader past renewDeadline", async () => {
    const a = candidate("a");
    a.elector.start();
    await advanceTo(5000);
    // Each answer takes 6 s: a read and a write fit in no 10 s round (each alone would fit a per-request timeout).
    a.connection.delayMs = 6000;
    await advanceTo(15_999);
    expect(a.elector.isLeader).toBe(true);
    await advanceTo(16_000);
    expect(a.elector.isLeader).toBe(false);
    expect(log).toEqual(["0 start a", "16000 abort a", "16000 stop a"]);
    expect(server.lease?.spec).toMatchObject({ holderIdentity: "a", renewTime: at(4000) });
  });

  it("never starts leading when stopped during its acquire, and gives the Lease back", async () => {
    const a = candidate("a");
    a.connection.delayMs = 1000;
    a.elector.start(); // GET answered at 1 s, the create at 2 s
    await advanceTo(1500);
    const stopped = a.elector.stop();
    await advanceTo(10_000);
    await stopped;
    expect(log).toEqual([]);
    expect(a.elector.isLeader).toBe(false);
    expect(server.lease?.spec).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1 });
  });

  it("keeps renewing the Lease while a stopping leader winds its work down, then releases it", async () => {
    const a = candidate("a", { holdStop: true });
    const b = candidate("b");
    a.elector.start();
    await advanceTo(0);
    b.elector.start();
    await advanceTo(1000);
    const stop = a.elector.stop();
    await advanceTo(30_000); // onStoppedLeading still running: a helm upgrade finishing
    expect(a.elector.isLeader).toBe(false);
    expect(b.elector.isLeader).toBe(false);
    expect(server.lease?.spec).toMatchObject({ holderIdentity: "a", renewTime: at(29_000) });
    a.finishStopping();
    await stop;
    expect(server.lease?.spec).toMatchObject({ holderIdentity: "" });
    await advanceTo(32_000);
    expect(b.elector.isLeader).toBe(true);
  });

  it("campaigns again after stepping down and re-takes its own unexpired Lease without a transition", async () => {
    const a = candidate("a");
    a.elector.start();
    await advanceTo(5000);
    a.connection.fault = "refuse";
    await advanceTo(17_000);
    expect(a.elector.isLeader).toBe(false);
    a.connection.fault = undefined;

    await advanceTo(18_000);
    expect(a.elector.isLeader).toBe(true);
    expect(server.lease?.spec).toEqual({
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      acquireTime: at(0),
      renewTime: at(18_000),
      leaseTransitions: 0,
    });
    expect(log).toEqual(["0 start a", "16000 abort a", "16000 stop a", "18000 start a"]);
  });

  it("steps down at its next renew when the Lease shows another holder, and leaves that Lease alone", async () => {
    const a = candidate("a");
    a.elector.start();
    await advanceTo(3000);
    server.seed({ holderIdentity: "x", leaseDurationSeconds: 15, renewTime: at(3000), leaseTransitions: 1 });
    const taken = structuredClone(server.lease);

    await advanceTo(4000);
    expect(a.elector.isLeader).toBe(false);
    expect(a.elector.leader).toBe("x");
    expect(a.leaders).toEqual(["a", "x"]);
    expect(log).toEqual(["0 start a", "4000 abort a", "4000 stop a"]);
    await advanceTo(10_000);
    expect(server.lease).toEqual(taken);
  });

  it("stop() ends leadership, awaits onStoppedLeading, then releases the Lease to the next candidate", async () => {
    const a = candidate("a", { holdStop: true });
    const b = candidate("b");
    a.elector.start();
    await advanceTo(0);
    b.elector.start(); // tries at 0 s, 2 s, 4 s, ...
    await advanceTo(5000);

    let stopped = false;
    const stop = a.elector.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(["0 start a", "5000 abort a", "5000 stop a"]);
    expect(a.elector.isLeader).toBe(false);
    expect(stopped).toBe(false);
    expect(server.lease?.spec.holderIdentity).toBe("a"); // not released while onStoppedLeading runs

    a.finishStopping();
    await stop;
    expect(server.lease?.spec).toEqual({
      holderIdentity: "",
      leaseDurationSeconds: 1,
      acquireTime: at(5000),
      renewTime: at(5000),
      leaseTransitions: 0,
    });

    // Held, the Lease would expire at 19 s; released, b takes it at its next try.
    await advanceTo(5999);
    expect(b.elector.isLeader).toBe(false);
    await advanceTo(6000);
    expect(b.elector.isLeader).toBe(true);
    expect(server.lease?.spec).toEqual({
      holderIdentity: "b",
      leaseDurationSeconds: 15,
      acquireTime: at(6000),
      renewTime: at(6000),
      leaseTransitions: 1,
    });
    expect(log).toEqual(["0 start a", "5000 abort a", "5000 stop a", "6000 start b"]);
  });

  it.each([
    {
      lease: "missing",
      seed: undefined,
      refused: ["GET NotFound", "GET NotFound", "POST AlreadyExists"],
      transitions: 0,
    },
    {
      lease: "released",
      seed: { holderIdentity: "", leaseDurationSeconds: 1, renewTime: at(-20_000), leaseTransitions: 3 },
      refused: ["PUT Conflict"],
      transitions: 4,
    },
  ])(
    "lets exactly one of two racing candidates take a $lease Lease; the other's write fails",
    async ({ seed, refused, transitions }) => {
      if (seed) server.seed(seed);
      const a = candidate("a");
      const b = candidate("b");
      a.elector.start();
      b.elector.start();
      await advanceTo(0);
      expect(server.refused).toEqual(refused);
      expect(Number(a.elector.isLeader) + Number(b.elector.isLeader)).toBe(1);
      const [winner, loser] = a.elector.isLeader ? [a, b] : [b, a];
      expect(server.lease?.spec).toMatchObject({
        holderIdentity: winner.elector.identity,
        acquireTime: at(0),
        leaseTransitions: transitions,
      });

      for (let t = 500; t <= 30_000; t += 500) {
        await advanceTo(t);
        expect(winner.elector.isLeader && !loser.elector.isLeader).toBe(true);
      }
      expect(loser.elector.leader).toBe(winner.elector.identity);
      expect(server.refused).toEqual(refused);
      expect(server.lease?.spec).toMatchObject({ acquireTime: at(0), leaseTransitions: transitions });
      expect(log).toEqual([`0 start ${winner.elector.identity}`]);
    },
  );

  it("refuses timings where a leader could outlive its Lease or never retry", () => {
    const make = (lease: number, renewDeadline: number, retry: number) => () =>
      new LeaderElector({
        client: new Connection(server),
        name: NAME,
        namespace: NAMESPACE,
        identity: "a",
        leaseDurationSeconds: lease,
        renewDeadlineSeconds: renewDeadline,
        retryPeriodSeconds: retry,
      });
    expect(make(10, 10, 2)).toThrow(RangeError);
    expect(make(15, 10, 10)).toThrow(RangeError);
    expect(make(15, 10, 0)).toThrow(RangeError);
    expect(make(1.5, 1, 0.5)).toThrow(RangeError);
    expect(make(15, 10, 2)).not.toThrow();
  });
});
