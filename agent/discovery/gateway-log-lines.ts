// One line of what the gateway wrote, as text with a time and level when the
// line says. Two shapes, both read from the pinned OpenClaw 2026.9.6:
// - its file log: one JSON object per line (tslog), the message under
//   "message" (else the numeric keys "0", "1"… joined, as its own
//   parse-log-line.ts does), "time" as local ISO time with offset,
//   `_meta.logLevelName` (INFO, WARN, ERROR, FATAL);
// - its console (the launchd StandardOutPath/StandardErrorPath file, the
//   journal): `2026-12-05T09:55:04.439+00:00 [gateway] message` or the
//   timestamp and the message alone; a multi-line message continues on lines
//   without a timestamp.

export interface ParsedLine {
  atMs?: number;
  level?: string;
  text: string;
}

/** OpenClaw's JSON file-log line; undefined when the line is not one (a foreign or cut line). */
export function parseOpenClawFileLine(raw: string): ParsedLine | undefined {
  if (!raw.startsWith("{")) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const meta = typeof record._meta === "object" && record._meta !== null ? (record._meta as Record<string, unknown>) : {};
  const time = typeof record.time === "string" ? record.time : typeof meta.date === "string" ? meta.date : undefined;
  const level = typeof meta.logLevelName === "string" ? meta.logLevelName : typeof record.level === "string" ? record.level : undefined;
  const text = typeof record.message === "string" ? record.message : positionalMessage(record);
  const atMs = time ? Date.parse(time) : Number.NaN;
  return { ...(Number.isFinite(atMs) ? { atMs } : {}), ...(level ? { level: level.toUpperCase() } : {}), text };
}

function positionalMessage(record: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const key of Object.keys(record)) {
    if (!/^\d+$/.test(key)) continue;
    const item = record[key];
    // The first positional item is the subsystem binding (`{"subsystem":"gateway"}`), not words.
    if (key === "0" && typeof item === "string" && item.startsWith("{")) continue;
    if (typeof item === "string") parts.push(item);
    else if (item !== null && item !== undefined) parts.push(JSON.stringify(item));
  }
  return parts.join(" ");
}

const CONSOLE_TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)) (.*)$/s;

/** A console line: its leading timestamp if any, and the rest. */
export function parseConsoleLine(raw: string): ParsedLine {
  const match = CONSOLE_TIMESTAMP.exec(raw);
  if (!match) return { text: raw };
  const atMs = Date.parse(match[1]!);
  return Number.isFinite(atMs) ? { atMs, text: match[2]! } : { text: match[2]! };
}
