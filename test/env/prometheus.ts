import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** The binaries of Debian's prometheus package, provisioned by test/env/provision.sh. */
export interface PrometheusBinaries {
  promtool: string;
  prometheus: string;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `override` when set, else the first executable `name` on $PATH, else the package's path under /usr/bin. */
function locate(name: string, override: string | undefined): string | undefined {
  if (override) return executable(override) ? override : undefined;
  const dirs = [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), "/usr/bin"];
  return dirs.map((dir) => join(dir, name)).find(executable);
}

/** promtool and prometheus when both are there ($ZONESYNC_PROMTOOL, $ZONESYNC_PROMETHEUS, else $PATH), else undefined. */
export function findPrometheus(): PrometheusBinaries | undefined {
  const promtool = locate("promtool", process.env.ZONESYNC_PROMTOOL);
  const prometheus = locate("prometheus", process.env.ZONESYNC_PROMETHEUS);
  return promtool && prometheus ? { promtool, prometheus } : undefined;
}

/**
 * The promtool binary, for tests that check rules and queries with it. Never skips: a machine without it fails
 * with what to do (`npm test` provisions it).
 */
export function promtool(): string {
  const found = locate("promtool", process.env.ZONESYNC_PROMTOOL);
  if (found) return found;
  const where = process.env.ZONESYNC_PROMTOOL
    ? `ZONESYNC_PROMTOOL=${process.env.ZONESYNC_PROMTOOL} is not an executable file`
    : "promtool is not on $PATH nor in /usr/bin";
  throw new Error(
    `${where}. Run \`npm test\` (it provisions Debian's prometheus package with test/env/provision.sh), or ` +
      "`apt-get install --no-install-recommends prometheus`, or set ZONESYNC_PROMTOOL to a promtool binary.",
  );
}
