// `npm test`: everything CI runs. Provisions the Kubernetes binaries when missing, builds, checks types, lints, then
// runs every test (unit and real-cluster) with vitest.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { ensureBinaries } from "../test/env/binaries.ts";

const REPORT = ".zonesync-dev/vitest-report.json";

/** The plain closing line ("N passed, N failed, N skipped") from vitest's JSON report. */
function summaryLine(): string | undefined {
  if (!existsSync(REPORT)) return undefined;
  const report = JSON.parse(readFileSync(REPORT, "utf8")) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
  };
  return `tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests + report.numTodoTests} skipped`;
}

function step(name: string, command: string, args: string[]): void {
  const started = Date.now();
  process.stderr.write(`\n[test] ${name}\n`);
  const result = spawnSync(command, args, { stdio: "inherit" });
  if (result.status !== 0) {
    const summary = name === "tests" ? summaryLine() : undefined;
    if (summary) process.stdout.write(`${summary}\n`);
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
rmSync(REPORT, { force: true });
mkdirSync(".zonesync-dev", { recursive: true });
step("tests", "vitest", [
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${REPORT}`,
  ...process.argv.slice(2),
]);
process.stderr.write(`\n[test] all passed in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
process.stdout.write(`${summaryLine() ?? "tests: no report"}\n`);
