import { z } from "zod";
import { CATEGORIES, type CheckReport } from "./types.ts";

/**
 * The stable shape of `zonesync check -o json`. docs/check-output.schema.json is generated from it
 * (`node src/check/generate-schema.ts`; a test fails when the committed copy drifts). Fields are only ever added.
 */

const status = z.enum(["ok", "warning", "error", "skipped"]);

export const SubjectResultSchema = z
  .object({
    subject: z.string().describe("What was checked: a link (`<namespace>/<name>`), a Deployment, …"),
    result: status.describe("ok, warning, error or skipped, for this subject"),
    message: z.string().nullable().describe("What is wrong, why it was skipped, or a note when ok"),
    hint: z.string().nullable().describe("The command or edit that fixes it; null when ok"),
  })
  .strict();

export const CheckResultSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-z-]+\.[a-z-]+$/)
      .describe("Stable id, `<category>.<name>`"),
    description: z.string().describe("One line: what the check verifies"),
    severity: z.enum(["error", "warning"]).describe("What a failure of this check is (a subject may be worse)"),
    result: status.describe("ok, warning (failed, severity warning), error, or skipped (a prerequisite failed)"),
    error: z.string().nullable().describe("Why it did not pass, or why it was skipped; null when ok"),
    hint: z.string().nullable().describe("The exact command or edit that fixes it; null when ok"),
    message: z.string().nullable().describe("A note on a passing check, e.g. the server version; null when none"),
    details: z.array(SubjectResultSchema).optional().describe("Per subject results, for checks over several"),
  })
  .strict();

export const CheckReportSchema = z
  .object({
    success: z.boolean().describe("true when no check ended in error (warnings allowed); the exit code is 0 then"),
    clusters: z.array(
      z
        .object({
          context: z.string().describe("The kubeconfig context"),
          server: z.string().nullable().describe("Its API server URL"),
          categories: z.array(
            z
              .object({
                name: z.enum(CATEGORIES).describe("links, controllers, credentials, mirrors, zone-sync, multicluster"),
                checks: z.array(CheckResultSchema),
              })
              .strict(),
          ),
        })
        .strict(),
    ),
  })
  .strict()
  .describe("The result of `zonesync check -o json`");

/** The JSON Schema (draft 2020-12) of the report. */
export function checkReportJsonSchema(): Record<string, unknown> {
  return {
    $id: "https://zonesync.io/schemas/check-output.schema.json",
    title: "zonesync check -o json",
    ...(z.toJSONSchema(CheckReportSchema, { io: "output" }) as Record<string, unknown>),
  };
}

// The zod schema and the engine's TypeScript types describe the same shape (checked at compile time).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
export const SCHEMA_MATCHES_TYPES: Same<z.output<typeof CheckReportSchema>, CheckReport> = true;
