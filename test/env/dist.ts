import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const entrypoint = join(repoRoot, "dist", "src", "cli", "main.js");

function newestSourceChange(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceChange(path));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function builtAt(): number | undefined {
  try {
    return statSync(entrypoint).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Builds dist/ when it is missing or older than src/, once, before any test file runs. Test files start the built CLI
 * as child processes; a test file that rebuilt dist/ itself would rewrite modules that processes of other files are
 * importing at that moment (CI once saw "does not provide an export named 'HttpTransport'" from a half-written file).
 */
export function ensureDistBuilt(log: (message: string) => void): void {
  const built = builtAt();
  if (built !== undefined && built >= newestSourceChange(join(repoRoot, "src"))) return;
  log(built === undefined ? "dist/ is missing: building it (tsc)" : "dist/ is older than src/: rebuilding it (tsc)");
  try {
    execFileSync(join(repoRoot, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], {
      cwd: repoRoot,
      stdio: "pipe",
    });
  } catch (err) {
    // Type errors elsewhere in the tree still emit JavaScript; only a missing entry point is fatal.
    if (builtAt() === undefined) throw new Error("tsc did not produce dist/src/cli/main.js", { cause: err });
  }
}
