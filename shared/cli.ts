// Command definitions and flag parsing shared by every `clawfleet` subcommand.
import { parseArgs, type ParseArgsConfig } from "node:util";

export class UsageError extends Error {}

export type Options = NonNullable<ParseArgsConfig["options"]>;

export interface Command<O extends Options = Options> {
  /** Words after `clawfleet`, e.g. ["agent", "check"]. */
  path: readonly string[];
  /** Full --help text: usage line, flags, examples. */
  help: string;
  options: O;
  /** Exit status for a usage error (Nagios plugins use 3, UNKNOWN). */
  usageExitStatus?: number;
  allowPositionals?: boolean;
  run(values: ParsedValues<O>, positionals: string[]): Promise<number>;
}

export type ParsedValues<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: true }>>["values"];

export function defineCommand<O extends Options>(command: Command<O>): Command<O> {
  return command;
}

/** Parses flags strictly; unknown flags and missing values become UsageErrors. */
export function parseFlags<O extends Options>(options: O, args: string[], allowPositionals = false) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
  }
}

/** Reads a flag that must be HOST:PORT (IPv6 in brackets). */
export function parseAddress(flag: string, value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new UsageError(`--${flag} must be HOST:PORT (e.g. 127.0.0.1:4317), got "${value}"`);
  return { host: (match[1] ?? match[2])!, port };
}

export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
