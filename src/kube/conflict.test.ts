import { describe, expect, it } from "vitest";
import { updateWithRetry } from "./conflict.ts";
import { KubeApiError } from "./errors.ts";

const conflict = () => new KubeApiError("PATCH /x: 409 the object has been modified", 409, "Conflict", "PATCH", "/x");

describe("updateWithRetry", () => {
  it("writes the cached copy first, and on a conflict reads again and writes the fresh one", async () => {
    const seen: string[] = [];
    const outcome = await updateWithRetry({
      cached: "v1",
      read: async () => "v2",
      attempts: 3,
      write: async (current) => {
        seen.push(current);
        if (current === "v1") throw conflict();
        return true;
      },
    });
    expect(outcome).toBe("written");
    expect(seen).toEqual(["v1", "v2"]);
  });

  it("says unchanged, gone or conflicted, stops when no longer active, and throws other errors", async () => {
    expect(await updateWithRetry({ cached: 1, read: async () => 1, attempts: 3, write: async () => false })).toBe(
      "unchanged",
    );
    expect(
      await updateWithRetry({ cached: undefined, read: async () => undefined, attempts: 3, write: async () => true }),
    ).toBe("gone");
    let writes = 0;
    const always = async () => {
      writes++;
      throw conflict();
    };
    expect(await updateWithRetry({ cached: 1, read: async () => 1, attempts: 4, write: always })).toBe("conflicted");
    expect(writes).toBe(4);
    writes = 0;
    const active = () => writes < 2;
    expect(await updateWithRetry({ cached: 1, read: async () => 1, attempts: 4, write: always, active })).toBe(
      "conflicted",
    );
    expect(writes).toBe(2);
    const forbidden = new KubeApiError("PATCH /x: 403 forbidden", 403, "Forbidden", "PATCH", "/x");
    await expect(
      updateWithRetry({
        cached: 1,
        read: async () => 1,
        attempts: 3,
        write: async () => {
          throw forbidden;
        },
      }),
    ).rejects.toBe(forbidden);
  });
});
