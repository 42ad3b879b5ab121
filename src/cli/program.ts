import { Command, CommanderError } from "commander";
import { VERSION } from "../version.ts";
import { registerAllow } from "./allow.ts";
import { registerLink } from "./link.ts";
import { registerUnlink } from "./unlink.ts";
import { registerValues } from "./values.ts";

import { EXIT_FAILURE, EXIT_USAGE, UsageError } from "./errors.ts";

export { EXIT_FAILURE, EXIT_USAGE, UsageError } from "./errors.ts";

export function buildProgram(): Command {
  const program = new Command("zonesync")
    .description("Declarative multicluster sync manager for Kubernetes")
    .version(VERSION, "--version", "print the version")
    .showHelpAfterError("(add --help for usage and examples)")
    .exitOverride();
  program
    .command("version")
    .description("print the zonesync version")
    .option("-o, --output <format>", "text or json", "text")
    .action((opts: { output: string }) => {
      if (opts.output === "json")
        process.stdout.write(JSON.stringify({ version: VERSION, node: process.version }) + "\n");
      else process.stdout.write(`zonesync ${VERSION} (node ${process.version})\n`);
    });
  registerLink(program);
  registerAllow(program);
  registerUnlink(program);
  registerValues(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0) return 0;
      return EXIT_USAGE;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      return EXIT_USAGE;
    }
    const cause = err instanceof Error && err.cause instanceof Error ? `\n  caused by: ${err.cause.message}` : "";
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}${cause}\n`);
    return EXIT_FAILURE;
  }
}
