// `npm test`: everything CI runs. Provisions the Kubernetes binaries when missing, builds, checks types, lints, then
// runs every test (unit and real-cluster) with vitest.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { ensureBinaries } from "../test/env/binaries.ts";
import { RETRY_REPORT, type RetriedTest } from "../test/retry-reporter.ts";

const REPORT = ".zonesync-dev/vitest-report.json";

/** The tests that needed more than one try, each printed; there are none while no test sets `retry`. */
function retriedTests(): RetriedTest[] {
  if (!existsSync(RETRY_REPORT)) return [];
  const retried = JSON.parse(readFileSync(RETRY_REPORT, "utf8")) as RetriedTest[];
  for (const t of retried) {
    process.stderr.write(`[test] retried ${t.retries}× (${t.state}): ${t.file} › ${t.name}\n`);
  }
  return retried;
}

/** The plain closing line ("N passed, N failed, N skipped, N retried") from vitest's reports. */
function summaryLine(): string | undefined {
  if (!existsSync(REPORT)) return undefined;
  const report = JSON.parse(readFileSync(REPORT, "utf8")) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
  };
  const skipped = report.numPendingTests + report.numTodoTests;
  const retried = retriedTests().length;
  return `tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped, ${retried} retried`;
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
process.stderr.write("[test] provisioning Kubernetes binaries and Prometheus (cached after the first run)\n");
ensureBinaries();
step("build", "tsc", ["-p", "tsconfig.json"]);
step("lint", "eslint", ["--max-warnings=0", "."]);
step("format", "prettier", ["--check", "--log-level=warn", "."]);
rmSync(REPORT, { force: true });
rmSync(RETRY_REPORT, { force: true });
mkdirSync(".zonesync-dev", { recursive: true });
step("tests", "vitest", [
  "run",
  "--reporter=default",
  "--reporter=json",
  "--reporter=./test/retry-reporter.ts",
  `--outputFile.json=${REPORT}`,
  ...process.argv.slice(2),
]);
process.stderr.write(`\n[test] all passed in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
process.stdout.write(`${summaryLine() ?? "tests: no report"}\n`);
