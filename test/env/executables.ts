import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A tool a test runs: `override` when set (and executable), else the first executable `name` on $PATH, else in
 * `packageDirs`, where Debian's package puts it (a non-login shell's $PATH may lack /usr/sbin).
 */
export function locateExecutable(
  name: string,
  override: string | undefined,
  packageDirs: string[],
): string | undefined {
  if (override) return isExecutable(override) ? override : undefined;
  const dirs = [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), ...packageDirs];
  return dirs.map((dir) => join(dir, name)).find(isExecutable);
}
