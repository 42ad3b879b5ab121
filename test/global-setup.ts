import { readFileSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { ensureDistBuilt } from "./env/dist.ts";
import { shareable, startEnvironment, type Environment, type SharedEnvironment } from "./env/index.ts";

declare module "vitest" {
  export interface ProvidedContext {
    env: SharedEnvironment;
  }
}

let env: Environment | undefined;

/** One set of real clusters (hub, east, west) for the whole run; each test works in namespaces of its own. */
export async function setup(project: TestProject): Promise<void> {
  ensureDistBuilt((m) => process.stderr.write(`[build] ${m}\n`));
  // For development: reuse clusters started by `npm run clusters -- up hub east west` (it writes env.json).
  const reuse = process.env.ZONESYNC_TEST_ENV;
  if (reuse) {
    project.provide("env", JSON.parse(readFileSync(reuse, "utf8")) as SharedEnvironment);
    return;
  }
  const started = Date.now();
  env = await startEnvironment(["hub", "east", "west"], {
    log: (m) => process.stderr.write(`[clusters] ${m}\n`),
  });
  process.stderr.write(`[clusters] hub, east and west ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  project.provide("env", shareable(env));
}

export async function teardown(): Promise<void> {
  await env?.stop();
}
