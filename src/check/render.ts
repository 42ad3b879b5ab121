import { CATEGORY_TITLES, type CheckReport, type CheckResult, type CheckStatus, type ClusterResult } from "./types.ts";

/** The three output formats of `zonesync check`: a table for people, JSON for machines, short for probes. */
export const OUTPUT_FORMATS = ["table", "json", "short"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const MARKS: Record<CheckStatus, string> = { ok: "√", warning: "‼", error: "×", skipped: "○" };

export interface RenderOptions {
  color: boolean;
}

/** Colour only on a terminal, and never with NO_COLOR set (https://no-color.org). */
export function useColor(stream: { isTTY?: boolean } = process.stdout, env = process.env): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR;
}

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

function painter(color: boolean) {
  return (style: keyof typeof CODES, text: string): string =>
    color ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text;
}

const STATUS_STYLE: Record<CheckStatus, keyof typeof CODES> = {
  ok: "green",
  warning: "yellow",
  error: "red",
  skipped: "dim",
};

interface Counts {
  ok: number;
  warning: number;
  error: number;
  skipped: number;
}

export function countResults(clusters: readonly ClusterResult[]): Counts {
  const counts: Counts = { ok: 0, warning: 0, error: 0, skipped: 0 };
  for (const c of clusters) for (const cat of c.categories) for (const check of cat.checks) counts[check.result]++;
  return counts;
}

function summary(counts: Counts): string {
  const n = (k: number, one: string, many = `${one}s`) => `${k} ${k === 1 ? one : many}`;
  return `${n(counts.ok, "passed", "passed")}, ${n(counts.warning, "warning")}, ${n(counts.error, "error")}, ${n(counts.skipped, "skipped", "skipped")}`;
}

function indent(text: string, prefix: string): string {
  return text
    .split("\n")
    .map((line) => prefix + line)
    .join("\n");
}

function renderCheck(check: CheckResult, paint: ReturnType<typeof painter>, lines: string[]): void {
  const mark = paint(STATUS_STYLE[check.result], MARKS[check.result]);
  let line = `${mark} ${check.description}`;
  if (check.result === "ok" && check.message) line += paint("dim", ` (${check.message})`);
  if (check.result === "skipped" && check.error) line += paint("dim", ` (${check.error})`);
  lines.push(line);
  if (check.result === "error" || check.result === "warning") {
    if (check.error) lines.push(indent(check.error, "    "));
    if (check.hint) lines.push(paint("dim", indent(check.hint, "    fix: ")));
  }
}

function header(cluster: ClusterResult, many: boolean): string {
  return many || cluster.server ? `context ${cluster.context}${cluster.server ? ` (${cluster.server})` : ""}` : "";
}

/** Categories, one line per check with √ / ‼ / × / ○, what is wrong and how to fix it under failures, a summary. */
export function renderTable(report: CheckReport, options: RenderOptions): string {
  const paint = painter(options.color);
  const lines: string[] = [];
  const many = report.clusters.length > 1;
  for (const cluster of report.clusters) {
    const title = header(cluster, many);
    if (title) lines.push(paint("bold", title), "=".repeat(title.length), "");
    for (const category of cluster.categories) {
      const name = CATEGORY_TITLES[category.name];
      lines.push(paint("bold", name), "-".repeat(name.length));
      for (const check of category.checks) renderCheck(check, paint, lines);
      lines.push("");
    }
    if (many) lines.push(`${cluster.context}: ${summary(countResults([cluster]))}`, "");
  }
  lines.push(verdict(report, paint));
  return lines.join("\n") + "\n";
}

function verdict(report: CheckReport, paint: ReturnType<typeof painter>): string {
  const counts = countResults(report.clusters);
  const mark = report.success ? paint("green", MARKS.ok) : paint("red", MARKS.error);
  return `Status check results are ${mark} (${summary(counts)})`;
}

/** Only what is not OK (warnings and errors, with their hints), then the verdict; for exec probes and scripts. */
export function renderShort(report: CheckReport, options: RenderOptions): string {
  const paint = painter(options.color);
  const lines: string[] = [];
  const many = report.clusters.length > 1;
  for (const cluster of report.clusters) {
    for (const category of cluster.categories) {
      for (const check of category.checks) {
        if (check.result !== "error" && check.result !== "warning") continue;
        const where = many ? `${cluster.context}: ` : "";
        lines.push(
          `${paint(STATUS_STYLE[check.result], MARKS[check.result])} ${where}${check.id}: ${check.description}`,
        );
        if (check.error) lines.push(indent(check.error, "    "));
        if (check.hint) lines.push(paint("dim", indent(check.hint, "    fix: ")));
      }
    }
  }
  lines.push(verdict(report, paint));
  return lines.join("\n") + "\n";
}

export function renderJson(report: CheckReport): string {
  return JSON.stringify(report, null, 2) + "\n";
}

export function render(report: CheckReport, format: OutputFormat, options: RenderOptions): string {
  switch (format) {
    case "json":
      return renderJson(report);
    case "short":
      return renderShort(report, options);
    case "table":
      return renderTable(report, options);
  }
}
