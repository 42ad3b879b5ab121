import type { Command } from "commander";

export function registerMigrate(program: Command): void {
  program.command("migrate").description("move links from standalone controllers to the chart (plan, or --apply)");
}
