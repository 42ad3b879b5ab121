import type { ClusterContext } from "../context.ts";
import type { CheckDefinition } from "../types.ts";
import { controllerChecks } from "./controllers.ts";
import { credentialChecks } from "./credentials.ts";
import { linkChecks } from "./links.ts";
import { mcsChecks } from "./mcs.ts";
import { mirrorChecks } from "./mirrors.ts";
import { multiclusterChecks } from "./multicluster.ts";
import { zoneSyncChecks } from "./zonesync.ts";

/** Every check, in report order (categories in CATEGORIES order, prerequisites before what depends on them). */
export const ALL_CHECKS: readonly CheckDefinition<ClusterContext>[] = [
  ...linkChecks,
  ...controllerChecks,
  ...credentialChecks,
  ...mirrorChecks,
  ...zoneSyncChecks,
  ...multiclusterChecks,
  ...mcsChecks,
];
