import { Command, CommanderError } from "commander";
import { VERSION } from "../version.ts";

import { EXIT_FAILURE, EXIT_USAGE, UsageError } from "./errors.ts";

export { EXIT_FAILURE, EXIT_USAGE, UsageError } from "./errors.ts";

type Register = (program: Command) => void;

/**
 * The commands, each loaded only when it runs: `zonesync check --probe` is an exec probe and must start without
 * loading every other command's dependencies (@kubernetes/client-node alone takes 0.5-1.2 s to import).
 * Add a command with one line here.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  link: async () => (await import("./link.ts")).registerLink,
  allow: async () => (await import("./allow.ts")).registerAllow,
  unlink: async () => (await import("./unlink.ts")).registerUnlink,
  values: async () => (await import("./values.ts")).registerValues,
  manager: async () => (await import("./manager.ts")).registerManager,
  "link-controller": async () => (await import("./link-controller.ts")).registerLinkController,
  "mcs-controller": async () => (await import("./mcs-controller.ts")).registerMcsController,
  check: async () => (await import("./check.ts")).registerCheck,
  migrate: async () => (await import("./migrate.ts")).registerMigrate,
  export: async () => (await import("./export.ts")).registerExport,
  unexport: async () => (await import("./export.ts")).registerUnexport,
};

/** The program with the command named by argv[0] only, or with every command (for help and unknown commands). */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
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
  const first = argv[0];
  const names = first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
  const registers = await Promise.all(names.map((name) => COMMANDS[name]!()));
  for (const register of registers) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
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
