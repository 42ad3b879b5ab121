import { locateExecutable } from "./executables.ts";

/** The binaries of Debian's prometheus package, provisioned by test/env/provision.sh. */
export interface PrometheusBinaries {
  promtool: string;
  prometheus: string;
}

function locate(name: string, override: string | undefined): string | undefined {
  return locateExecutable(name, override, ["/usr/bin"]);
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
