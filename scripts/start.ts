// `npm start`: the main job against the embedded default: real local clusters hub, east and west, with zonesync
// running on them. Later steps of the product extend this; it stays in the foreground until interrupted.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { ensureBinaries } from "../test/env/binaries.ts";
import { startEnvironment } from "../test/env/index.ts";

const say = (message: string) => process.stderr.write(`[start] ${message}\n`);

say("provisioning Kubernetes binaries (cached after the first run)");
ensureBinaries();
say("building zonesync");
const build = spawnSync("tsc", ["-p", "tsconfig.json"], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

const kubeconfigPath = resolve(".zonesync-dev/kubeconfig");
const started = Date.now();
const env = await startEnvironment(["hub", "east", "west"], { kubeconfigPath, log: (m) => say(m) });
say(`clusters ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.stdout.write(`ready\n${kubeconfigPath}\n`);
for (const c of Object.values(env.clusters)) {
  process.stdout.write(`  context ${c.name.padEnd(5)} ${c.server}  services ${c.serviceCidr}  pods ${c.podCidr}\n`);
}
process.stdout.write(`\nTry: KUBECONFIG=${kubeconfigPath} kubectl --context east get nodes\nPress Ctrl-C to stop.\n`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  say("stopping");
  await env.stop();
  process.exit(0);
};
process.removeAllListeners("SIGINT");
process.removeAllListeners("SIGTERM");
process.on("SIGINT", () => void shutdown());
process.on("SIGTERM", () => void shutdown());
