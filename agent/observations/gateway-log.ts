// The gateway's own words: the tail of every log the gateway or its service
// manager wrote (OpenClaw's file log, the launchd job's StandardOutPath/
// StandardErrorPath, the systemd user journal), bounded in bytes and age, with
// any secret a line holds replaced by its fingerprint before it leaves here.
import { within } from "../../shared/within.ts";
import { allTokenSources } from "../discovery/token-sources.ts";
import type { ServiceDefinition } from "../discovery/gateway-service.ts";
import type { ServiceDiscovery } from "../discovery/find-gateway-service.ts";
import { parseConsoleLine, parseOpenClawFileLine, type ParsedLine } from "../discovery/gateway-log-lines.ts";
import { isOtherGatewaysLine } from "../discovery/log-attribution.ts";
import { createLogScrubber } from "../discovery/log-secrets.ts";
import { readTail } from "../discovery/log-tail.ts";
import { configValue } from "../discovery/openclaw-config.ts";
import { defaultLogDir, findOpenClawLogFiles, OPENCLAW_LOG_RETENTION_MS } from "../discovery/openclaw-log-file.ts";
import { readUserJournal } from "../platform/journal.ts";
import { isSecretName } from "../discovery/secret-shapes.ts";
import { serviceDiscovery } from "./gateway-services.ts";
import { observation, orElse, type ObservationContext } from "./observation.ts";

export type LogSourceKind = "openclaw-file" | "launchd-stdout" | "launchd-stderr" | "journal";

export interface LogSource {
  kind: LogSourceKind;
  /** File path, or the journal unit. */
  where: string;
  /** Why it could not be read (missing, permission, no user manager…). */
  error?: string;
  /** Lines left out because they name another gateway's state dir (a file log shared by several gateways of one user). */
  otherGatewayLines?: number;
}

export interface LogLine {
  /** Which source (its `where`) the line came from. */
  where: string;
  /** When the line was written, if the line or its source says. */
  atMs?: number;
  /** The logger's level when the source records one (INFO, WARN, ERROR, FATAL). */
  level?: string;
  /** The text with secrets fingerprinted; safe to print and report. */
  text: string;
}

export interface GatewayLog {
  sources: LogSource[];
  /** Oldest first, across sources. */
  lines: LogLine[];
}

/** Bytes read from the end of each file, at most: the tail is what explains a death. */
export const LOG_TAIL_BYTES = 64 * 1024;
/** Lines older than this are not evidence of the current state (OpenClaw keeps its dated logs this long). */
export const LOG_MAX_AGE_MS = OPENCLAW_LOG_RETENTION_MS;
/** A line is cut here (OpenClaw caps a file-log message at 4096 characters). */
export const LOG_LINE_CHARS = 2000;
/** Newest lines kept across all sources. */
export const LOG_MAX_LINES = 400;
/** Journal entries asked for. */
export const JOURNAL_ENTRIES = 200;
/** How long the service definitions (for launchd's output paths and the journal's unit) are waited for. */
const SERVICES_WAIT_MS = 1500;
/** Dated OpenClaw files read (today's and the day before, or a file and its last rotation). */
const OPENCLAW_FILES = 2;

interface RawLine extends ParsedLine {
  where: string;
}

export const gatewayLog = observation<GatewayLog>("gateway-log", 2500, [serviceDiscovery], async (ctx) => {
  const noServices: ServiceDiscovery = { services: [], errors: [] };
  // The file log does not depend on the service manager: a slow launchctl/systemctl costs only its sources.
  const { services } = await within(orElse(ctx.observe(serviceDiscovery), noServices), SERVICES_WAIT_MS, noServices);
  const nowMs = Date.now();
  const sources: LogSource[] = [];
  const raw: RawLine[] = [];
  const collect = (source: LogSource, lines: RawLine[] | undefined) => {
    sources.push(source);
    if (lines) raw.push(...lines);
  };

  await readOpenClawFiles(ctx, services, nowMs, collect);
  for (const service of services) {
    if (service.manager === "launchd") await readLaunchdOutput(service, nowMs, collect);
  }
  const unit = services.find((s) => s.manager === "systemd" && !(s.state ?? "").startsWith("unknown"));
  if (unit) {
    const journal = await readUserJournal(ctx.runner, unit.name, JOURNAL_ENTRIES, ctx.signal);
    const where = `journal ${unit.name}`;
    if (!journal.ok) collect({ kind: "journal", where, error: journal.error }, undefined);
    // The gateway's console lines carry their own timestamp; the journal's is the one kept.
    else collect({ kind: "journal", where }, journal.lines.filter((l) => l.atMs === undefined || nowMs - l.atMs <= LOG_MAX_AGE_MS).map((l) => ({ ...l, text: parseConsoleLine(l.text).text, where })));
  }

  const scrub = createLogScrubber(knownSecrets(ctx, services), ctx.fingerprint);
  // Stable sort: lines without a time keep their place within their source.
  const ordered = raw.map((line, index) => ({ line, index })).sort((a, b) => (a.line.atMs ?? 0) - (b.line.atMs ?? 0) || a.index - b.index);
  const lines = ordered.slice(-LOG_MAX_LINES).map(({ line }) => ({
    where: line.where,
    ...(line.atMs !== undefined ? { atMs: line.atMs } : {}),
    ...(line.level ? { level: line.level } : {}),
    text: cap(scrub(bounded(line.text))),
  }));
  return { sources, lines };
});

/**
 * What the scrubber sees: no more than a line can show plus a margin (a 64 KiB
 * line must not cost the patterns their time), cut at a blank inside the
 * margin so no half secret is left for them to miss.
 */
function bounded(text: string): string {
  const limit = LOG_LINE_CHARS + 512;
  if (text.length <= limit) return text;
  const cut = text.slice(0, limit);
  const blank = Math.max(cut.lastIndexOf(" "), cut.lastIndexOf("\n"), cut.lastIndexOf("\t"));
  // A word running from before the shown part to past the margin is 512+ characters: no secret, keep it.
  return blank > LOG_LINE_CHARS ? cut.slice(0, blank) : cut;
}

function cap(text: string): string {
  return text.length > LOG_LINE_CHARS ? `${text.slice(0, LOG_LINE_CHARS)}…` : text;
}

type Collect = (source: LogSource, lines: RawLine[] | undefined) => void;

/** The gateway's environment as far as the service definition says (the CLI's, for a gateway started by hand). */
function gatewayEnv(ctx: ObservationContext, services: readonly ServiceDefinition[]): Record<string, string | undefined> {
  return { ...ctx.world.env, ...(services[0]?.environment ?? {}) };
}

async function readOpenClawFiles(ctx: ObservationContext, services: readonly ServiceDefinition[], nowMs: number, collect: Collect): Promise<void> {
  const env = gatewayEnv(ctx, services);
  const uid = process.getuid?.() ?? 0;
  const configured = configValue(ctx.world.config.raw, "logging.file");
  const configuredFile = typeof configured === "string" ? configured : undefined;
  const files = findOpenClawLogFiles({ configuredFile, env, home: ctx.world.home, uid }).filter((f) => nowMs - f.mtimeMs <= LOG_MAX_AGE_MS);
  if (files.length === 0) {
    collect({ kind: "openclaw-file", where: configuredFile ?? defaultLogDir(env, uid), error: "no log file written in the last 24 h" }, undefined);
    return;
  }
  let budget = LOG_TAIL_BYTES;
  for (const file of files.slice(0, OPENCLAW_FILES)) {
    if (budget <= 0) break;
    const read = await readFile(file.path, budget);
    if ("error" in read) {
      collect({ kind: "openclaw-file", where: file.path, error: read.error }, undefined);
      continue;
    }
    budget -= Math.min(read.size, budget);
    const parsed = recent(read.lines.map((l) => parseOpenClawFileLine(l) ?? parseConsoleLine(l)), file.path, read.mtimeMs, nowMs);
    const ours = parsed.filter((l) => !isOtherGatewaysLine(l.text, ctx.world.stateDir, ctx.world.config.path));
    const others = parsed.length - ours.length;
    collect({ kind: "openclaw-file", where: file.path, ...(others > 0 ? { otherGatewayLines: others } : {}) }, ours);
    // Only when the whole file fit may the one before it add what led up to it.
    if (read.truncated) break;
  }
}

async function readLaunchdOutput(service: ServiceDefinition, nowMs: number, collect: Collect): Promise<void> {
  const paths: [LogSourceKind, string | undefined][] = [["launchd-stdout", service.stdoutPath], ["launchd-stderr", service.stderrPath]];
  const seen = new Set<string>();
  for (const [kind, path] of paths) {
    // OpenClaw points both at one file (~/Library/Logs/openclaw/gateway.log): read it once.
    if (!path || seen.has(path)) continue;
    seen.add(path);
    const read = await readFile(path, LOG_TAIL_BYTES);
    if ("error" in read) collect({ kind, where: path, error: read.error }, undefined);
    else if (nowMs - read.mtimeMs > LOG_MAX_AGE_MS) collect({ kind, where: path }, []);
    else collect({ kind, where: path }, recent(read.lines.map(parseConsoleLine), path, read.mtimeMs, nowMs, true));
  }
}

async function readFile(path: string, maxBytes: number) {
  try {
    return await readTail(path, maxBytes);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { error: code === "ENOENT" ? "missing" : code === "EACCES" ? "permission denied" : (code ?? (error as Error).message) };
  }
}

/**
 * Lines within the age bound. A line without a time continues the one before
 * (a multi-line console message): with `joinContinuations` it is appended to
 * it, so a message is one LogLine as in the file log and the journal;
 * otherwise it takes the previous time. Lines before the first timed one count
 * as recent only if the file itself is.
 */
function recent(lines: readonly ParsedLine[], where: string, mtimeMs: number, nowMs: number, joinContinuations = false): RawLine[] {
  const out: RawLine[] = [];
  let last: number | undefined;
  let previous: RawLine | undefined;
  for (const line of lines) {
    if (!line.text.trim()) continue;
    if (joinContinuations && line.atMs === undefined && previous) {
      if (previous.text.length <= LOG_LINE_CHARS) previous.text += `\n${line.text}`;
      continue;
    }
    const atMs = line.atMs ?? last;
    last = atMs;
    if (nowMs - (atMs ?? mtimeMs) > LOG_MAX_AGE_MS) {
      previous = undefined;
      continue;
    }
    previous = { where, text: line.text, ...(atMs !== undefined ? { atMs } : {}), ...(line.level ? { level: line.level } : {}) };
    out.push(previous);
  }
  return out;
}

/** Every secret the gateway's logs could quote: its token sources, configured passwords and secret-named variables. */
function knownSecrets(ctx: ObservationContext, services: readonly ServiceDefinition[]): string[] {
  const secrets = allTokenSources(ctx.world, services, undefined).map((s) => s.value ?? "");
  for (const dotted of ["gateway.auth.password", "gateway.remote.password"]) {
    const value = configValue(ctx.world.config.raw, dotted);
    if (typeof value === "string") secrets.push(value);
  }
  const envs = [ctx.world.env, ...services.map((s) => s.environment)];
  for (const env of envs) for (const [name, value] of Object.entries(env)) if (value && isSecretName(name)) secrets.push(value);
  return secrets.filter(Boolean);
}
