import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

/**
 * Every benchmark runs from a clean clone: each one once, at a tiny size, on clusters of its own. Nothing here
 * asserts a timing (figures come from full runs, `npm run bench`); it asserts that the benchmark ran to the end
 * and printed its figures.
 */
const repoRoot = join(import.meta.dirname, "..", "..");
const run = promisify(execFile);

const benchmarks: Array<{ name: string; args: string[]; figures: RegExp[] }> = [
  {
    name: "env",
    args: ["--rounds", "1"],
    figures: [/round 1: 3 clusters ready in \d+\.\d s \| \d+ processes, RSS \d+ MB/],
  },
  {
    name: "manager",
    args: ["--bursts", "2"],
    figures: [/ 2 links \| create +\d+\.\d s \| all Deployments +\d+\.\d s \| helm upgrades +1 \|/],
  },
  {
    name: "mirror",
    args: ["--latency", "5", "--sync", "20", "--changes", "10"],
    figures: [
      /latency, 5 exported services, 10 endpoint changes/,
      /p99 ratio controller\/floor: \d+\.\d\d/,
      /initial sync, 20 exported services, .*: \d+\.\d s until \/readyz .*peak RSS \d+ MB/,
    ],
  },
  {
    name: "mcs",
    args: ["--sizes", "5", "--changes", "10"],
    figures: [
      /MCS, 5 names exported from east and west: export → hub ServiceImport ready p50 [\d.]+ ms \/ p99 [\d.]+ ms, all in \d+\.\d s/,
      /MCS, 5 names: CPU during that burst, of \d+ core-seconds: Kubernetes \([^)]*\) (?!0\.0 )[\d.]+ s \(\d+ %\), zonesync \([^)]*\) [\d.]+ s \(\d+ %\)/,
      /MCS, 5 names, 10 endpoint changes \(east and west\): .*, lost \d+ \| floor .* p99 ratio zonesync\/floor: \d+\.\d\d/,
    ],
  },
  {
    name: "check",
    args: ["--links", "2", "--runs", "1", "--probe-runs", "2"],
    figures: [
      /zonesync check: 3 clusters × 2 links \(\d+ check results/,
      /check --probe cold start, 2 runs .*p50 \d+ ms/,
    ],
  },
  {
    name: "zonesync",
    args: ["--updates", "20"],
    figures: [/zone-sync: 20 no-op ConfigMap updates \(concurrency 1\) → 0 rollouts/],
  },
];

describe("benchmarks run to completion at a tiny size", () => {
  for (const bench of benchmarks) {
    it(`bench/${bench.name}`, async () => {
      const { stdout } = await run(process.execPath, [join(repoRoot, "bench", bench.name, "run.ts"), ...bench.args], {
        cwd: repoRoot,
        maxBuffer: 16 << 20,
        timeout: 240_000,
      });
      for (const figure of bench.figures) expect(stdout).toMatch(figure);
    }, 300_000);
  }
});
