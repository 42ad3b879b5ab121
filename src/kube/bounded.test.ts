import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LineSplitter, readBounded, readTruncated, ResponseTooLargeError } from "./bounded.ts";
import { KubeClient, type KubeClientLimits, type KubeObject, type WatchEventType } from "./client.ts";
import { KubeApiError } from "./errors.ts";
import { Resources } from "./resources.ts";

const tooLong = (seen: number) => new RangeError(`line of ${seen}`);
const bytes = (text: string) => new TextEncoder().encode(text);

async function* chunks(...parts: Array<string | Uint8Array>): AsyncIterable<Uint8Array> {
  for (const p of parts) yield typeof p === "string" ? bytes(p) : p;
}

/** The lines a splitter completes for one chunk. */
function push(s: LineSplitter, chunk: Uint8Array): string[] {
  const lines: string[] = [];
  s.push(chunk, (l) => lines.push(l));
  return lines;
}

describe("LineSplitter", () => {
  it("returns complete lines however the stream is chunked", () => {
    const s = new LineSplitter(100, tooLong);
    expect(push(s, bytes('{"a"'))).toEqual([]);
    expect(push(s, bytes(':1}\n{"b":2}\n{"c"'))).toEqual(['{"a":1}', '{"b":2}']);
    expect(s.buffered).toBe(4);
    expect(push(s, bytes(":3}\n"))).toEqual(['{"c":3}']);
    expect(s.buffered).toBe(0);
  });

  it("keeps a multi-byte character that is split between chunks", () => {
    const s = new LineSplitter(100, tooLong);
    const euro = bytes("€"); // 3 bytes
    expect(push(s, euro.subarray(0, 1))).toEqual([]);
    expect(push(s, Uint8Array.from([...euro.subarray(1), 0x0a]))).toEqual(["€"]);
  });

  it("takes a line of exactly the limit and refuses one byte more, before its newline arrives", () => {
    expect(push(new LineSplitter(8, tooLong), bytes("12345678\n"))).toEqual(["12345678"]);
    const s = new LineSplitter(8, tooLong);
    expect(push(s, bytes("12345"))).toEqual([]);
    expect(() => push(s, bytes("6789"))).toThrow("line of 9");
    expect(() => push(new LineSplitter(8, tooLong), bytes("123456789\n"))).toThrow("line of 9");
  });

  it("delivers the lines a chunk completes before refusing its overlong rest", () => {
    const lines: string[] = [];
    const s = new LineSplitter(8, tooLong);
    expect(() => s.push(bytes("ok\nfine\n123456789"), (l) => lines.push(l))).toThrow("line of 9");
    expect(lines).toEqual(["ok", "fine"]);
  });
});

describe("readBounded and readTruncated", () => {
  it("reads a body up to the limit and throws one byte past it", async () => {
    expect((await readBounded(chunks("abc", "def"), 6, tooLong)).toString()).toBe("abcdef");
    await expect(readBounded(chunks("abc", "defg"), 6, tooLong)).rejects.toThrow("line of 7");
    expect((await readBounded(null, 6, tooLong)).length).toBe(0);
  });

  it("cuts an error body at the limit", async () => {
    expect(await readTruncated(chunks("abc", "def"), 6)).toBe("abcdef");
    expect(await readTruncated(chunks("abc", "defgh", "ijk"), 6)).toBe("abcdef…");
  });
});

/** A loopback HTTP server that answers with `handler`; counts the bytes each response managed to write. */
let server: Server;
let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
let port = 0;

beforeAll(async () => {
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function client(limits: Partial<KubeClientLimits>): KubeClient {
  const kubeconfig = {
    apiVersion: "v1",
    kind: "Config",
    // client-node takes plain http only with TLS verification off (there is no TLS to verify on loopback).
    clusters: [{ name: "c", cluster: { server: `http://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } }],
    users: [{ name: "u", user: {} }],
    contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
    "current-context": "x",
  };
  return KubeClient.fromString(JSON.stringify(kubeconfig), undefined, limits);
}

/** Streams `total` bytes of JSON-ish filler in 64 KiB chunks, as fast as the client reads; resolves with bytes written. */
function streamFiller(res: ServerResponse, total: number): Promise<number> {
  return new Promise((resolve) => {
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, "x");
    res.on("close", () => resolve(written));
    const pump = (): void => {
      while (written < total) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      res.end();
    };
    pump();
  });
}

describe("KubeClient bounds (loopback server)", () => {
  it("parses a body within the limit", async () => {
    handler = (_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ metadata: { name: "a" } }));
    };
    const c = client({ maxResponseBytes: 1024 });
    await expect(c.request("GET", "/api/v1/namespaces/a")).resolves.toEqual({ metadata: { name: "a" } });
    await c.close();
  });

  it("stops reading a body past the limit and drops the connection", async () => {
    let written: Promise<number> = Promise.resolve(0);
    handler = (_req, res) => {
      res.setHeader("content-type", "application/json");
      written = streamFiller(res, 256 * 1024 * 1024);
    };
    const c = client({ maxResponseBytes: 1024 * 1024 });
    const err = await c.request("GET", "/api/v1/services").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResponseTooLargeError);
    expect(err).toBeInstanceOf(KubeApiError);
    const e = err as ResponseTooLargeError;
    expect(e.message).toBe("GET /api/v1/services: the response body exceeds the limit of 1 MiB; not reading further");
    expect([e.status, e.reason, e.limit, e.part]).toEqual([413, "ResponseTooLarge", 1024 * 1024, "response body"]);
    expect(e.cause).toBeInstanceOf(RangeError);
    // The server could write far less than the 256 MiB it meant to: the client hung up.
    expect(await written).toBeLessThan(64 * 1024 * 1024);
    await c.close();
  });

  it("refuses a declared content-length past the limit without reading it", async () => {
    handler = (_req, res) => {
      res.setHeader("content-type", "application/json");
      res.setHeader("content-length", String(10 * 1024 * 1024));
      res.write("{");
    };
    const c = client({ maxResponseBytes: 1024 });
    const err = (await c.request("GET", "/api/v1/pods").catch((e: unknown) => e)) as ResponseTooLargeError;
    expect(err).toBeInstanceOf(ResponseTooLargeError);
    expect((err.cause as Error).message).toBe(`${10 * 1024 * 1024} bytes read, limit 1024 bytes`);
    await c.close();
  });

  it("cuts a huge error answer instead of buffering it", async () => {
    handler = (_req, res) => {
      res.statusCode = 500;
      void streamFiller(res, 16 * 1024 * 1024);
    };
    const c = client({ maxErrorBodyBytes: 1000 });
    const err = (await c.request("GET", "/api/v1/secrets").catch((e: unknown) => e)) as KubeApiError;
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err.status).toBe(500);
    expect(err.message.length).toBeLessThan(1100);
    expect(err.message.endsWith("x…")).toBe(true);
    await c.close();
  });

  it("fails a paged list past maxListItems (a server that never stops paging)", async () => {
    let pages = 0;
    handler = (_req, res) => {
      pages++;
      res.setHeader("content-type", "application/json");
      const items = Array.from({ length: 10 }, (_, i) => ({ metadata: { name: `s${pages}-${i}` } }));
      res.end(JSON.stringify({ metadata: { continue: `page-${pages}` }, items }));
    };
    const c = client({ maxListItems: 35 });
    const err = (await c.listAll(Resources.services).catch((e: unknown) => e)) as ResponseTooLargeError;
    expect(err).toBeInstanceOf(ResponseTooLargeError);
    expect(err.message).toBe("GET /api/v1/services: the list exceeds the limit of 35 items; not reading further");
    expect(pages).toBe(4);
    await c.close();
  });

  it("delivers watch events within the line limit and ends the watch at a line past it", async () => {
    const small = JSON.stringify({ type: "ADDED", object: { metadata: { name: "a" } } });
    handler = (_req, res) => {
      res.setHeader("content-type", "application/json");
      res.write(small + "\n");
      res.write(`{"type":"ADDED","object":{"metadata":{"name":"${"b".repeat(8192)}`);
      // …and the line never ends: the client must not wait for its newline.
      void streamFiller(res, 64 * 1024 * 1024);
    };
    const c = client({ maxWatchLineBytes: 4096 });
    const events: Array<[WatchEventType, string | undefined]> = [];
    const done = new Promise<unknown>((resolve) => {
      void c.watch<KubeObject>(Resources.services, undefined, {}, (t, o) => events.push([t, o.metadata.name]), resolve);
    });
    const err = (await done) as ResponseTooLargeError;
    expect(events).toEqual([["ADDED", "a"]]);
    expect(err).toBeInstanceOf(ResponseTooLargeError);
    expect(err.message).toBe("WATCH /api/v1/services: the watch line exceeds the limit of 4 KiB; not reading further");
    await c.close();
  });
});
