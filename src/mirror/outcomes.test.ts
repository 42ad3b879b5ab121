import { describe, expect, it } from "vitest";
import { OutcomeBook } from "./outcomes.ts";
import type { Outcome } from "./reconciler.ts";
import { PEERS_KEY } from "./target.ts";

const mirrored = (endpoints: number): Outcome => ({ writes: 1, mirrored: true, endpoints });
const conflict = (object: string): Outcome => ({
  writes: 0,
  mirrored: false,
  endpoints: 0,
  skipped: { reason: "NameConflict", message: `Service ${object} exists and was not created by this link`, object },
});
const missing = (namespace: string): Outcome => ({
  writes: 0,
  mirrored: false,
  endpoints: 0,
  skipped: { reason: "NamespaceMissing", message: `namespace ${namespace} does not exist here` },
});

describe("OutcomeBook", () => {
  it("counts mirrored Services (not the peers) and all their endpoints", () => {
    const book = new OutcomeBook(() => undefined);
    book.record("svc:a/one", mirrored(3));
    book.record("svc:a/two", mirrored(2));
    book.record(PEERS_KEY, mirrored(4));
    book.record("svc:a/gone", mirrored(1));
    book.record("svc:a/gone", { writes: 1, mirrored: false, endpoints: 0 });
    expect(book.counts()).toEqual({ services: 2, endpoints: 9 });
    expect(book.get("svc:a/gone")).toBeUndefined();
  });

  it("reports a name conflict once per blocking object, and its resolution", () => {
    const book = new OutcomeBook(() => undefined);
    expect(book.record("svc:a/web", conflict("a/web-east")).nameConflict?.object).toBe("a/web-east");
    expect(book.record("svc:a/web", conflict("a/web-east")).nameConflict).toBeUndefined();
    book.record("svc:b/web", conflict("b/web-east"));
    book.record("svc:c/web", conflict("a/web-east"));
    expect(book.nameConflicts()).toEqual(["a/web-east", "b/web-east"]);
    const news = book.record("svc:a/web", mirrored(1));
    expect(news.nameConflictResolved).toBe("a/web-east");
    expect(book.nameConflicts()).toEqual(["a/web-east", "b/web-east"]); // still blocks svc:c/web
    book.record("svc:c/web", mirrored(1));
    expect(book.nameConflicts()).toEqual(["b/web-east"]);
  });

  it("announces a missing namespace once, and hands back the keys that waited for it", () => {
    const book = new OutcomeBook(() => "zs-peers");
    expect(book.record("svc:shop/web", missing("shop")).namespaceMissing).toBe("shop");
    expect(book.record("svc:shop/api", missing("shop")).namespaceMissing).toBeUndefined();
    expect(book.record(PEERS_KEY, missing("zs-peers")).namespaceMissing).toBe("zs-peers");
    expect(book.missingNamespaces()).toEqual(["shop", "zs-peers"]);
    expect(book.namespaceAppeared("shop").sort()).toEqual(["svc:shop/api", "svc:shop/web"]);
    // Missing again later: a new Event.
    expect(book.record("svc:shop/web", missing("shop")).namespaceMissing).toBe("shop");
  });

  it("keeps the failing keys until they succeed, telling whether the message is new", () => {
    const book = new OutcomeBook(() => undefined);
    expect(book.fail("svc:a/web", "422 invalid")).toBeUndefined();
    expect(book.fail("svc:a/web", "422 invalid")).toBe("422 invalid");
    expect([...book.failures.keys()]).toEqual(["svc:a/web"]);
    book.record("svc:a/web", mirrored(1));
    expect(book.failures.size).toBe(0);
  });

  it("says when a skip reason's message changed", () => {
    const book = new OutcomeBook(() => undefined);
    const invalid = (message: string): Outcome => ({
      writes: 0,
      mirrored: false,
      endpoints: 0,
      skipped: { reason: "InvalidSpec", message },
    });
    expect(book.record(PEERS_KEY, invalid("x")).skipChanged).toBe(true);
    expect(book.record(PEERS_KEY, invalid("x")).skipChanged).toBe(false);
    expect(book.record(PEERS_KEY, invalid("y")).skipChanged).toBe(true);
  });
});
