import { z } from "zod";

/** Release states, as Helm 3 and 4 name them. */
export const releaseStatusSchema = z.enum([
  "unknown",
  "deployed",
  "uninstalled",
  "superseded",
  "failed",
  "uninstalling",
  "pending-install",
  "pending-upgrade",
  "pending-rollback",
]);
export type ReleaseStatus = z.infer<typeof releaseStatusSchema>;

export const isPending = (status: ReleaseStatus): boolean => status.startsWith("pending-");

/**
 * `helm status -o json` and `helm upgrade -o json`: the release object (only the fields we use; Helm 4 adds
 * `info.resources` and `apply_method`, Helm 3 `info.deleted`, both carry the chart and manifest, which we drop).
 */
export const releaseSchema = z
  .object({
    name: z.string(),
    namespace: z.string(),
    version: z.number().int(),
    info: z.object({
      status: releaseStatusSchema,
      description: z.string().optional(),
      first_deployed: z.string().optional(),
      last_deployed: z.string().optional(),
      notes: z.string().optional(),
    }),
    chart: z
      .object({ metadata: z.object({ name: z.string(), version: z.string(), appVersion: z.string().optional() }) })
      .optional(),
  })
  .transform((r) => ({
    name: r.name,
    namespace: r.namespace,
    revision: r.version,
    status: r.info.status,
    description: r.info.description ?? "",
    lastDeployed: r.info.last_deployed,
    chart: r.chart ? `${r.chart.metadata.name}-${r.chart.metadata.version}` : undefined,
    appVersion: r.chart?.metadata.appVersion,
  }));
export type Release = z.output<typeof releaseSchema>;

/** `helm history -o json`. */
export const historySchema = z.array(
  z
    .object({
      revision: z.number().int(),
      updated: z.string(),
      status: releaseStatusSchema,
      chart: z.string(),
      app_version: z.string().optional(),
      description: z.string().optional(),
    })
    .transform((h) => ({
      revision: h.revision,
      updated: h.updated,
      status: h.status,
      chart: h.chart,
      appVersion: h.app_version,
      description: h.description ?? "",
    })),
);
export type HistoryEntry = z.output<typeof historySchema>[number];

/** `helm list -o json` (the revision is a string there). */
export const listSchema = z.array(
  z
    .object({
      name: z.string(),
      namespace: z.string(),
      revision: z.union([z.string(), z.number()]),
      updated: z.string(),
      status: releaseStatusSchema,
      chart: z.string(),
      app_version: z.string().optional(),
    })
    .transform((r) => ({
      name: r.name,
      namespace: r.namespace,
      revision: Number(r.revision),
      updated: r.updated,
      status: r.status,
      chart: r.chart,
      appVersion: r.app_version,
    })),
);
export type ListEntry = z.output<typeof listSchema>[number];

/** `helm get values -o json`: an object, or `null` when the release has no user-supplied values. */
export const valuesSchema = z
  .record(z.string(), z.unknown())
  .nullable()
  .transform((v) => v ?? {});
