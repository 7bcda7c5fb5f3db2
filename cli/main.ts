// `clawfleet` entry point: finds the subcommand, parses its flags, runs it.
import { parseFlags, UsageError } from "../shared/cli.ts";
import { AGENT_VERSION } from "../shared/version.ts";
import { COMMANDS } from "./commands.ts";

const USAGE_EXIT = 2;

function overview(prefix: readonly string[] = []): string {
  const matching = COMMANDS.filter((c) => prefix.every((word, i) => c.path[i] === word));
  const width = Math.max(...matching.map((c) => c.path.join(" ").length));
  return `Usage: clawfleet <command> [flags]   (clawfleet <command> --help for details)

Commands:
${matching.map((c) => `  ${c.path.join(" ").padEnd(width)}  ${c.summary}`).join("\n")}

clawfleet ${AGENT_VERSION}: fleet triage for OpenClaw gateways.
`;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    process.stdout.write(overview());
    return argv.length === 0 ? USAGE_EXIT : 0;
  }
  if (argv[0] === "--version" || argv[0] === "-v") {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  }
  // Longest command path that prefixes argv.
  const entry = [...COMMANDS]
    .sort((a, b) => b.path.length - a.path.length)
    .find((c) => c.path.every((word, i) => argv[i] === word));
  if (!entry) {
    const known = argv.filter((word) => !word.startsWith("-"));
    const group = COMMANDS.some((c) => c.path[0] === known[0]) ? [known[0]!] : [];
    process.stderr.write(`clawfleet: unknown command "${known.join(" ") || argv.join(" ")}"\n\n${overview(group)}`);
    return USAGE_EXIT;
  }
  const command = await entry.load();
  const args = argv.slice(command.path.length);
  const usageExit = command.usageExitStatus ?? USAGE_EXIT;
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(command.help + "\n");
    return 0;
  }
  try {
    const { values, positionals } = parseFlags(command.options, args, command.allowPositionals);
    if (positionals.length > 0 && !command.allowPositionals) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    return await command.run(values, positionals);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`clawfleet ${command.path.join(" ")}: ${error.message}\nRun \`clawfleet ${command.path.join(" ")} --help\` for usage.\n`);
      return usageExit;
    }
    process.stderr.write(`clawfleet ${command.path.join(" ")}: ${(error as Error).message}\n`);
    return command.path[1] === "check" ? 3 : 1;
  }
}
