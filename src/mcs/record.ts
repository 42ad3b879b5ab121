import { z } from "zod";
import { canonicalJson } from "../api/render.ts";
import { MAX_EXPORTED_ANNOTATION_BYTES } from "./exported-metadata.ts";
import { formatIssues } from "../api/kube-schemas.ts";
import { IP_FAMILIES, PORT_PROTOCOLS, SERVICE_IMPORT_TYPES, SESSION_AFFINITIES, trafficDistribution } from "./api.ts";

/**
 * An export record: what one cluster exports under a namespace/name, as its MCS controller puts it on the slices of
 * the import (annotation zonesync.io/mcs-export) and as other clusters read it back. Read from another cluster, so
 * untrusted: bounded in size and validated before anything is computed from it.
 */
export const MAX_RECORD_BYTES = 16 * 1024;

export const RecordPortSchema = z.strictObject({
  name: z.string().max(63).optional(),
  protocol: z.enum(PORT_PROTOCOLS),
  port: z.number().int().min(1).max(65535),
  appProtocol: z.string().max(316).optional(),
});

export const ExportRecordSchema = z.strictObject({
  /** The ServiceExport's creationTimestamp: the oldest export wins conflicts. */
  created: z.iso.datetime({ offset: true }),
  type: z.enum(SERVICE_IMPORT_TYPES),
  ports: z.array(RecordPortSchema).max(100),
  sessionAffinity: z.enum(SESSION_AFFINITIES),
  sessionAffinityTimeoutSeconds: z.number().int().min(1).max(86400).optional(),
  ipFamilies: z.array(z.enum(IP_FAMILIES)).max(2).optional(),
  // Written only when set (and internalTrafficPolicy only when Local), so that a cluster running a zonesync from
  // before these fields still reads the records of the Services that do not use them.
  internalTrafficPolicy: z.literal("Local").optional(),
  trafficDistribution: trafficDistribution().optional(),
  // The export's spec.exportedLabels and exportedAnnotations, when it has any (filtered again where they are read).
  labels: z.record(z.string().max(317), z.string().max(63)).optional(),
  annotations: z.record(z.string().max(317), z.string().max(MAX_EXPORTED_ANNOTATION_BYTES)).optional(),
});

export type ExportRecord = z.infer<typeof ExportRecordSchema>;

export function encodeRecord(record: ExportRecord): string {
  return canonicalJson(record);
}

export function decodeRecord(text: string | undefined): { record: ExportRecord } | { problem: string } {
  if (text === undefined) return { problem: "it has no export record" };
  if (Buffer.byteLength(text) > MAX_RECORD_BYTES)
    return { problem: `its export record is over ${MAX_RECORD_BYTES} bytes` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: "its export record is not JSON" };
  }
  const parsed = ExportRecordSchema.safeParse(json);
  return parsed.success
    ? { record: parsed.data }
    : {
        problem: `invalid export record: ${formatIssues(parsed.error)
          .slice(0, 3)
          .map((m) => (m.length > 120 ? `${m.slice(0, 117)}...` : m))
          .join("; ")}`,
      };
}
