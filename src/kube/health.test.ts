import { Counter, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { HealthServer, parseAddress } from "./health.ts";

const servers: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(...args: Parameters<typeof HealthServer.start>): Promise<HealthServer> {
  const server = await HealthServer.start(...args);
  servers.push(server);
  return server;
}

describe("parseAddress", () => {
  it("reads host:port forms", () => {
    expect(parseAddress("0.0.0.0:8080")).toEqual({ host: "0.0.0.0", port: 8080 });
    expect(parseAddress(":9090")).toEqual({ host: "0.0.0.0", port: 9090 });
    expect(parseAddress("[::1]:80")).toEqual({ host: "::1", port: 80 });
    expect(parseAddress("localhost:0")).toEqual({ host: "localhost", port: 0 });
    expect(() => parseAddress("8080")).toThrow(/host:port/);
    expect(() => parseAddress("a:70000")).toThrow(/host:port/);
  });
});

describe("HealthServer", () => {
  it("serves liveness, readiness and metrics", async () => {
    const registry = new Registry();
    new Counter({ name: "zonesync_test_total", help: "a test counter", registers: [registry] }).inc(3);
    let ready = false;
    const server = await start({
      address: "127.0.0.1:0",
      registry,
      liveness: { loop: () => ({ ok: true }) },
      readiness: {
        informers: async () => ({ ok: ready, detail: ready ? undefined : "2 of 3 informers synced" }),
        leader: () => ({ ok: true, detail: "following" }),
      },
    });
    expect(server.address.port).toBeGreaterThan(0);

    const live = await fetch(`${server.url}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.text()).toBe("[+]loop ok\nok\n");

    const notReady = await fetch(`${server.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toBe(
      "[-]informers failed: 2 of 3 informers synced\n[+]leader ok: following\nnot ok\n",
    );
    ready = true;
    const json = await fetch(`${server.url}/readyz`, { headers: { accept: "application/json" } });
    expect(json.status).toBe(200);
    expect(await json.json()).toEqual({
      ok: true,
      checks: [
        { name: "informers", ok: true },
        { name: "leader", ok: true, detail: "following" },
      ],
    });

    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("zonesync_test_total 3");
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/healthz`, { method: "POST" })).status).toBe(405);
  });

  it("fails checks that throw or hang, and accepts checks added later", async () => {
    const server = await start({ address: "127.0.0.1:0", checkTimeoutMs: 50 });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200); // no checks: ready
    server.addReadinessCheck("boom", () => {
      throw new Error("kaputt");
    });
    server.addReadinessCheck("hang", () => new Promise(() => {}));
    const res = await fetch(`${server.url}/readyz?format=json`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      ok: false,
      checks: [
        { name: "boom", ok: false, detail: "kaputt" },
        { name: "hang", ok: false, detail: "no answer within 50 ms" },
      ],
    });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404); // no registry
  });

  it("takes its address from ZONESYNC_HTTP_ADDR and reports a busy port", async () => {
    const first = await start({ address: "127.0.0.1:0" });
    const previous = process.env.ZONESYNC_HTTP_ADDR;
    process.env.ZONESYNC_HTTP_ADDR = `127.0.0.1:${first.address.port}`;
    try {
      await expect(HealthServer.start()).rejects.toThrow(/EADDRINUSE/);
    } finally {
      if (previous === undefined) delete process.env.ZONESYNC_HTTP_ADDR;
      else process.env.ZONESYNC_HTTP_ADDR = previous;
    }
  });
});
