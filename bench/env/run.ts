// Test environment benchmark: cold start of three clusters (hub, east, west) once provisioned, and the memory they
// take (RSS of etcd, the kube-apiservers and the kube-controller-managers, summed from /proc), over a few rounds.
//   node bench/env/run.ts [--rounds 3]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startClusters } from "../../test/env/index.ts";
import { trackedPids } from "../../test/env/processes.ts";
import { sleep } from "../../src/sleep.ts";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "3" } } });
const rounds = Number(values.rounds);

function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

const rows: string[] = [];
for (let round = 1; round <= rounds; round++) {
  const started = performance.now();
  const env = await startClusters(["hub", "east", "west"]);
  const ready = (performance.now() - started) / 1000;
  await sleep(5000); // let the controllers settle before reading memory
  const pids = trackedPids();
  const total = pids.reduce((sum, pid) => sum + rssMb(pid), 0);
  const stopStarted = performance.now();
  await env.stop();
  const stop = (performance.now() - stopStarted) / 1000;
  rows.push(
    `round ${round}: 3 clusters ready in ${ready.toFixed(1)} s | ${pids.length} processes, RSS ${total.toFixed(0)} MB | teardown ${stop.toFixed(1)} s`,
  );
  process.stderr.write(rows.at(-1) + "\n");
}
process.stdout.write(
  `\nbench/env (etcd 3.4 + kube-apiserver/kube-controller-manager 1.20.2, ${process.version})\n${rows.join("\n")}\n`,
);
