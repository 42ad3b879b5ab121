// `npm test`: everything CI runs. Provisions the Kubernetes binaries when missing, builds, checks types, lints, then
// runs every test (unit and real-cluster) with vitest.
import { spawnSync } from "node:child_process";
import { ensureBinaries } from "../test/env/binaries.ts";

function step(name: string, command: string, args: string[]): void {
  const started = Date.now();
  process.stderr.write(`\n[test] ${name}\n`);
  const result = spawnSync(command, args, { stdio: "inherit" });
  if (result.status !== 0) {
    process.stderr.write(`[test] ${name} failed (exit ${result.status ?? result.signal})\n`);
    process.exit(result.status ?? 1);
  }
  process.stderr.write(`[test] ${name}: ok in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

const started = Date.now();
process.stderr.write("[test] provisioning Kubernetes binaries (cached after the first run)\n");
ensureBinaries();
step("build", "tsc", ["-p", "tsconfig.json"]);
step("lint", "eslint", ["--max-warnings=0", "."]);
step("format", "prettier", ["--check", "--log-level=warn", "."]);
step("tests", "vitest", ["run", ...process.argv.slice(2)]);
process.stderr.write(`\n[test] all passed in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
