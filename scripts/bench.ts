// `npm run bench [name …]`: builds, then runs the benchmarks (all of them by default) one after another at their
// full sizes; each starts clusters of its own and prints its figures. Sizes are options at the top of each run.ts.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { ensureBinaries } from "../test/env/binaries.ts";

const all = readdirSync("bench", { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();
const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !all.includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark ${unknown.join(", ")}; there are: ${all.join(", ")}\n`);
  process.exit(2);
}
ensureBinaries();
const build = spawnSync("tsc", ["-p", "tsconfig.json"], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);
for (const name of chosen.length > 0 ? chosen : all) {
  process.stderr.write(`\n[bench] ${name}\n`);
  const result = spawnSync(process.execPath, [`bench/${name}/run.ts`], { stdio: "inherit" });
  if (result.status !== 0) {
    process.stderr.write(`[bench] ${name} failed (exit ${result.status ?? result.signal})\n`);
    process.exit(result.status ?? 1);
  }
}
