#!/usr/bin/env node
// npm run clusters -- up hub east west [--kubeconfig FILE]
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { shareable, startEnvironment } from "./index.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    kubeconfig: { type: "string", default: ".zonesync-dev/kubeconfig" },
    help: { type: "boolean", short: "h" },
  },
});
const [command, ...names] = positionals;
if (values.help || command !== "up" || names.length === 0) {
  process.stderr.write("usage: npm run clusters -- up <name>... [--kubeconfig FILE]\n");
  process.exit(values.help ? 0 : 2);
}
const kubeconfigPath = resolve(values.kubeconfig!);
const started = Date.now();
const env = await startEnvironment(names, { kubeconfigPath, log: (m) => process.stderr.write(`[clusters] ${m}\n`) });
process.stderr.write(`[clusters] ${names.length} clusters ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
// Tests can run against these clusters with ZONESYNC_TEST_ENV=<this file> instead of starting their own.
const envFile = join(dirname(kubeconfigPath), "env.json");
writeFileSync(envFile, JSON.stringify(shareable(env), null, 2), { mode: 0o600 });
process.stderr.write(`[clusters] contexts: ${names.join(", ")}; test environment: ${envFile}\n`);
process.stdout.write(`ready\n${kubeconfigPath}\n`);
let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  process.stderr.write("[clusters] stopping\n");
  await env.stop();
  process.exit(0);
};
process.removeAllListeners("SIGINT");
process.removeAllListeners("SIGTERM");
process.on("SIGINT", () => void shutdown());
process.on("SIGTERM", () => void shutdown());
