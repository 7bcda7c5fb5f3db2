// The lines a gateway prints when it refuses to start or dies, as data: a
// stable message prefix from the pinned OpenClaw's dist/, the versions it was
// seen in, and the reason code it means (the action lives with the code in
// shared/taxonomy.ts). Judges match log lines against this table only.
import type { Code } from "../../shared/taxonomy.ts";

export interface FatalLine {
  /** Stable start of the message (after any timestamp/level/subsystem prefix the logger adds). */
  prefix: string;
  /** OpenClaw versions the text was read in (dist file named in a comment). */
  seenIn: readonly string[];
  code: Code;
}

// TODO(issue 12, causes): the entries, read from test/openclaw/node_modules/openclaw/dist.
export const FATAL_LINES: readonly FatalLine[] = [
  // dist/run-S_R0Bn7l.mjs (`Gateway failed to start: ${formatErrorMessage(error)}`) around
  // dist/io.invalid-config-Deld-wtR.mjs (`Invalid config at ${configPath}:`); the real gateway exits 78 after it.
  { prefix: "Gateway failed to start: Invalid config at ", seenIn: ["2026.9.6"], code: "config_invalid" },
];

export interface FatalMatch {
  entry: FatalLine;
  text: string;
}

/** The table entry a log line is, if any. */
export function matchFatalLine(text: string): FatalMatch | undefined {
  const entry = FATAL_LINES.find((e) => text.includes(e.prefix));
  return entry ? { entry, text } : undefined;
}
