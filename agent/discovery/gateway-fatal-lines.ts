// The lines a gateway prints when it refuses to start or dies, as data: a
// stable message prefix from the pinned OpenClaw's dist/, the versions it was
// seen in, and the reason code it means (the action lives with the code in
// shared/taxonomy.ts). Judges match log lines against this table only.
//
// Each prefix is the constant start of a message (the part before the first
// interpolated value), so it survives the logger's timestamp/subsystem prefix
// and a value that differs per host. Order matters: the first entry a line
// matches wins, so a specific text comes before a generic one it contains.
// Re-read when the pinned OpenClaw moves: `grep -rlF '<prefix>' dist/`.
import type { Code } from "../../shared/taxonomy.ts";

export interface FatalLine {
  /** Stable start of the message (after any timestamp/level/subsystem prefix the logger adds). */
  prefix: string;
  /** OpenClaw versions the text was read in (dist file named in a comment). */
  seenIn: readonly string[];
  code: Code;
}

const PINNED = ["2026.9.6"] as const;

export const FATAL_LINES: readonly FatalLine[] = [
  // dist/validation-core-*.mjs: the schema's own refusal, printed under "Invalid config at …" (exit 78).
  { prefix: "gateway.bind must resolve to loopback when gateway.tailscale.mode=", seenIn: PINNED, code: "tailscale_bind_conflict" },
  // dist/server-runtime-config-*.mjs (GatewayEffectiveConfigConflictError, a bind resolved at runtime).
  { prefix: "tailscale serve/funnel requires gateway bind=loopback", seenIn: PINNED, code: "tailscale_bind_conflict" },
  // dist/run-*.mjs, runGatewayCommandOnce (exit 78).
  { prefix: "Refusing to bind gateway to ", seenIn: PINNED, code: "bind_without_auth" },
  // dist/run-*.mjs (password, exit 78); the token variant is dist/setup-code-*.mjs in 2026.9.6 and was the
  // gateway's own startup refusal before it learned to start on a runtime token (openclaw#13692).
  { prefix: "Gateway auth is set to password, but no password is configured", seenIn: PINNED, code: "auth_unconfigured" },
  { prefix: "Gateway auth is set to token, but no token is configured", seenIn: PINNED, code: "auth_unconfigured" },
  // dist/known-weak-gateway-secrets-*.mjs: "Gateway auth token is a known redaction sentinel, not a credential."
  // (the __OPENCLAW_REDACTED__ an installer wrote, openclaw#13340), and the blank/example-token refusals.
  { prefix: " is a known redaction sentinel, not a credential", seenIn: PINNED, code: "auth_unconfigured" },
  { prefix: "gateway auth token is blank, a published example placeholder", seenIn: PINNED, code: "auth_unconfigured" },
  { prefix: "gateway auth password is blank, a published example placeholder", seenIn: PINNED, code: "auth_unconfigured" },
  // dist/server-startup-config-*.mjs: an env SecretRef of gateway auth that does not resolve.
  { prefix: "Startup failed: required secrets are unavailable", seenIn: PINNED, code: "secret_unresolved" },
  // openclaw#90277, #113294: the SecretRef resolver's error class as older versions print it.
  { prefix: "SecretRefResolutionError", seenIn: [], code: "secret_unresolved" },
  // dist/gateway-lock-*.mjs: the state dir's lock is held ("gateway already running (pid N); lock timeout …").
  { prefix: "gateway already running", seenIn: PINNED, code: "gateway_locked" },
  { prefix: "state directory is locked by ", seenIn: PINNED, code: "gateway_locked" },
  { prefix: "another embedded OpenClaw state writer is active", seenIn: PINNED, code: "gateway_locked" },
  // dist/server-start-*.mjs, listenGatewayHttpServer, after its EADDRINUSE retries.
  { prefix: "another gateway instance is already listening on ", seenIn: PINNED, code: "port_in_use" },
  // dist/config-env-vars-*.mjs: "Refusing to run automatic gateway startup migrations because this OpenClaw
  // binary (2026.9.6) is older than the config last written by OpenClaw 2026.10.2." (the stable part follows the versions' first).
  { prefix: "is older than the config last written by OpenClaw ", seenIn: PINNED, code: "openclaw_downgraded" },
  // dist/openclaw-database-preflight.messages-*.mjs and dist/startup-maintenance-*.mjs (reason "a newer OpenClaw build", exit 78).
  { prefix: "OpenClaw database schema(s) are newer than this build", seenIn: PINNED, code: "openclaw_downgraded" },
  // Printed as "gateway requires a newer OpenClaw build; …" (the reason of the "newer-schema" maintenance kind).
  { prefix: "a newer OpenClaw build", seenIn: PINNED, code: "openclaw_downgraded" },
  // dist/io.snapshot-*.mjs, warnIfConfigFromFuture: only a warning, but it names the version that wrote the config.
  { prefix: "Your OpenClaw config was written by version ", seenIn: PINNED, code: "openclaw_downgraded" },
  // dist/io.invalid-config-*.mjs, printed as "Gateway failed to start: Invalid config at <path>:" (exit 78).
  { prefix: "Invalid config at ", seenIn: PINNED, code: "config_refused" },
  // Node's own loader when the service's program or its install is gone (openclaw#73457, #31414): any version.
  { prefix: "Error [ERR_MODULE_NOT_FOUND]: Cannot find module", seenIn: [], code: "service_program_missing" },
];

/**
 * The line a gateway prints once it serves (dist/server-startup-log-*.mjs):
 * a fatal line older than it belongs to a start that was since overcome.
 */
export const STARTED_LINE = "http server listening (";

export interface FatalMatch {
  entry: FatalLine;
  text: string;
}

/** The table entry a log line is, if any. */
export function matchFatalLine(text: string): FatalMatch | undefined {
  const entry = FATAL_LINES.find((e) => text.includes(e.prefix));
  return entry ? { entry, text } : undefined;
}

/**
 * What the gateway prints when a start fails or it is looping, whatever the
 * cause (pinned 2026.9.6): dist/run-S_R0Bn7l.mjs and
 * dist/startup-maintenance-IqzG1_fz.mjs print `Gateway failed to start: …`;
 * OpenClaw's own breaker (dist/run-S_R0Bn7l.mjs, 3 unclean boots in 5 min,
 * dist/gateway-boot-lifecycle-DZNz5cof.mjs) logs `gateway restart-loop breaker tripped`.
 */
export const START_FAILURE_TEXT = "Gateway failed to start: ";
export const LOOP_BREAKER_TEXT = "gateway restart-loop breaker tripped";

/** A log line as evidence: a refusal spans lines (what, then where and why), so one line with its parts kept, bounded. */
export function fatalLineEvidence(text: string): string {
  return text.split("\n").map((l) => l.trim()).filter(Boolean).join(" | ").slice(0, 600);
}
