// The systemd user journal of one unit: `journalctl --user -u <unit> -n N -o json`.
// Export format (systemd JOURNAL_EXPORT_FORMATS, journalctl(1)): one JSON
// object per line; MESSAGE is a string, an array of byte values when it is
// not valid UTF-8, an array when the field repeats, or null when too large;
// __REALTIME_TIMESTAMP is microseconds since the epoch, as a string;
// PRIORITY 0–7 (syslog). Notices such as "-- No entries --" are not JSON.
import type { CommandRunner } from "./command-runner.ts";

const JOURNALCTL_TIMEOUT_MS = 1500;
const PRIORITY_LEVELS = ["FATAL", "FATAL", "FATAL", "ERROR", "WARN", "INFO", "INFO", "DEBUG"] as const;

export interface JournalLine {
  atMs?: number;
  level?: string;
  text: string;
}

export type JournalRead = { ok: true; lines: JournalLine[] } | { ok: false; error: string };

export function journalctlArgs(unit: string, lines: number): string[] {
  return ["--user", "-u", unit, "-n", String(lines), "-o", "json", "--no-pager", "-q"];
}

export async function readUserJournal(runner: CommandRunner, unit: string, lines: number, signal?: AbortSignal): Promise<JournalRead> {
  // TZ is irrelevant to -o json (timestamps are epoch microseconds).
  const result = await runner.run("journalctl", journalctlArgs(unit, lines), { timeoutMs: JOURNALCTL_TIMEOUT_MS, signal });
  if (result.exitCode === 127) return { ok: false, error: "journalctl is not installed" };
  if (result.exitCode === 124) return { ok: false, error: "journalctl timed out" };
  if (result.exitCode !== 0) {
    const first = (result.stderr || result.stdout).split("\n").map((l) => l.trim()).find(Boolean) ?? "";
    return { ok: false, error: `journalctl exited ${result.exitCode}${first ? `: ${first.slice(0, 200)}` : ""}` };
  }
  return { ok: true, lines: parseJournalJson(result.stdout) };
}

export function parseJournalJson(stdout: string): JournalLine[] {
  const out: JournalLine[] = [];
  for (const raw of stdout.split("\n")) {
    if (!raw.startsWith("{")) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      continue;
    }
    const text = messageText(entry.MESSAGE);
    if (text === undefined) continue;
    const micros = typeof entry.__REALTIME_TIMESTAMP === "string" && /^\d+$/.test(entry.__REALTIME_TIMESTAMP) ? Number(entry.__REALTIME_TIMESTAMP) : Number.NaN;
    const priority = typeof entry.PRIORITY === "string" && /^[0-7]$/.test(entry.PRIORITY) ? Number(entry.PRIORITY) : undefined;
    out.push({
      ...(Number.isSafeInteger(micros) ? { atMs: Math.floor(micros / 1000) } : {}),
      ...(priority !== undefined ? { level: PRIORITY_LEVELS[priority] } : {}),
      text,
    });
  }
  return out;
}

function messageText(message: unknown): string | undefined {
  if (typeof message === "string") return message;
  if (Array.isArray(message)) {
    if (message.every((b) => typeof b === "number" && Number.isInteger(b) && b >= 0 && b < 256)) return Buffer.from(message as number[]).toString("utf8");
    return message.filter((m): m is string => typeof m === "string").join("\n");
  }
  return undefined;
}
