// The gateway's own words: the tail of every log the gateway or its service
// manager wrote (OpenClaw's file log, the launchd job's StandardOutPath/
// StandardErrorPath, the systemd user journal), bounded in bytes and age, with
// any secret a line holds replaced by its fingerprint before it leaves here.
import { observation } from "./observation.ts";

export type LogSourceKind = "openclaw-file" | "launchd-stdout" | "launchd-stderr" | "journal";

export interface LogSource {
  kind: LogSourceKind;
  /** File path, or the journal unit. */
  where: string;
  /** Why it could not be read (missing, permission, no user manager…). */
  error?: string;
}

export interface LogLine {
  /** Which source (its `where`) the line came from. */
  where: string;
  /** When the line was written, if the line or its source says. */
  atMs?: number;
  /** The text with secrets fingerprinted; safe to print and report. */
  text: string;
}

export interface GatewayLog {
  sources: LogSource[];
  /** Oldest first, across sources. */
  lines: LogLine[];
}

// TODO(issue 12, logs): gather from the real sources; this shape is the contract the judges use.
export const gatewayLog = observation<GatewayLog>("gateway-log", 2500, [], async () => ({ sources: [], lines: [] }));
