import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The folder holding zonesync's package.json (the repository, or /app in the image), from sources or the build. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      try {
        if ((JSON.parse(readFileSync(candidate, "utf8")) as { name?: string }).name === "zonesync") return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find zonesync's package.json above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** The Helm chart shipped with zonesync. */
export const bundledChartPath = (): string => join(packageRoot(), "chart");
export const bundledCrdPath = (): string => join(packageRoot(), "crds", "zonesync.io_zonesynclinks.yaml");
