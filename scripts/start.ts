// `npm start`: the main job against the embedded default. Real local clusters hub, east and west; the zonesync
// chart installed in each (the manager runs as a pod, played by the pod simulator as a real process); east and west
// linked into hub with `zonesync link`; sample Services and NGINX zone-sync peers mirrored into hub. Prints a
// summary, then stays in the foreground until interrupted.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { ensureBinaries } from "../test/env/binaries.ts";
import { startEnvironment } from "../test/env/index.ts";
import { runDemo } from "./demo.ts";

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

let stopping = false;
const shutdown = async (code = 0) => {
  if (stopping) return;
  stopping = true;
  say("stopping");
  await env.stop();
  process.exit(code);
};
process.removeAllListeners("SIGINT");
process.removeAllListeners("SIGTERM");
process.on("SIGINT", () => void shutdown());
process.on("SIGTERM", () => void shutdown());

try {
  const summary = await runDemo(env, { kubeconfigPath, say });
  process.stdout.write(summary);
} catch (err) {
  say(`failed: ${err instanceof Error ? err.message : String(err)}`);
  if (err instanceof Error && err.cause) say(`  caused by: ${String((err.cause as Error).message ?? err.cause)}`);
  await shutdown(1);
}
process.stdout.write(`\nready\n${kubeconfigPath}\n`);
process.stdout.write(`Try: KUBECONFIG=${kubeconfigPath} npx zonesync check --all-contexts\nPress Ctrl-C to stop.\n`);
if (process.env.ZONESYNC_START_EXIT === "1") await shutdown(0);
