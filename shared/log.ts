// Logs on stderr, one line per event: `time level component: msg key=value…`
// for people, or one JSON object per line (`--log-format json`) for log
// shippers. Callers pass fingerprints, never secrets; text values are quoted
// when they contain spaces.
import { UsageError } from "./cli.ts";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export type Logger = Record<LogLevel, (message: string, fields?: Record<string, unknown>) => void>;

export interface LogOptions {
  level?: LogLevel;
  format?: LogFormat;
}

export function createLogger(component: string, stream: NodeJS.WritableStream = process.stderr, options: LogOptions = {}): Logger {
  const minLevel = options.level ?? "info";
  const line = options.format === "json" ? jsonLine : textLine;
  const write = (level: LogLevel) => (message: string, fields: Record<string, unknown> = {}) => {
    if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(minLevel)) return;
    stream.write(line(new Date().toISOString(), level, component, message, fields));
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

function textLine(time: string, level: LogLevel, component: string, message: string, fields: Record<string, unknown>): string {
  const kv = Object.entries(fields).map(([k, v]) => `${k}=${quote(String(v))}`).join(" ");
  return `${time} ${level.padEnd(5)} ${component}: ${message}${kv ? " " + kv : ""}\n`;
}

/** The fixed keys come last, so a field can never pass itself off as the time, level or message. */
function jsonLine(time: string, level: LogLevel, component: string, message: string, fields: Record<string, unknown>): string {
  const values = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, typeof v === "bigint" ? String(v) : v]));
  return `${JSON.stringify({ ...values, time, level, component, msg: message })}\n`;
}

function quote(value: string): string {
  return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
}

/** The flags every long-running command takes (defaults applied in logOptionsFromFlags, so an unset flag stays unset). */
export const LOG_FLAGS = {
  "log-level": { type: "string" },
  "log-format": { type: "string" },
} as const;

/** The flags' help lines, their descriptions starting at `column` as the command's other options do. */
export function logFlagsHelp(column: number): string {
  return [
    ["--log-level LEVEL", "debug, info, warn or error (default info)"],
    ["--log-format FORMAT", "text, or json for one object per line (default text)"],
  ].map(([flag, text]) => `  ${flag!.padEnd(column - 2)}${text}`).join("\n");
}

/** The logger the flags ask for; a bad value is a usage error naming the flag. */
export function loggerFromFlags(component: string, values: { "log-level"?: string; "log-format"?: string }): Logger {
  return createLogger(component, process.stderr, logOptionsFromFlags(values));
}

export function logOptionsFromFlags(values: { "log-level"?: string; "log-format"?: string }): LogOptions {
  const level = values["log-level"] ?? "info";
  const format = values["log-format"] ?? "text";
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got "${level}"`);
  if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--log-format must be text or json, got "${format}"`);
  return { level: level as LogLevel, format: format as LogFormat };
}
