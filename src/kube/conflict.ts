import { isConflict } from "./errors.ts";

export type UpdateOutcome = "written" | "unchanged" | "gone" | "conflicted";

/**
 * Read-modify-write under optimistic concurrency, the one loop for it: `write` gets the object (the cached copy
 * first, then fresh reads) and sends its change with the object's resourceVersion, resolving true when it wrote and
 * false when nothing needed writing. A 409 Conflict reads again and tries again, at most `attempts` times in all and
 * while `active()` holds. Other errors are thrown.
 */
export async function updateWithRetry<T>(options: {
  cached: T | undefined;
  read: () => Promise<T | undefined>;
  write: (current: T) => Promise<boolean>;
  attempts: number;
  active?: () => boolean;
}): Promise<UpdateOutcome> {
  let current = options.cached;
  for (let attempt = 0; attempt < options.attempts && (options.active?.() ?? true); attempt++) {
    current ??= await options.read();
    if (current === undefined) return "gone";
    try {
      return (await options.write(current)) ? "written" : "unchanged";
    } catch (err) {
      if (!isConflict(err)) throw err;
      current = undefined;
    }
  }
  return "conflicted";
}
