// An observation is one typed fact about the host (the port's owner, the
// service definitions, the token handshakes…), gathered once per check run
// under its own deadline: go/analysis's Analyzer with its ResultType. Checks
// judge observations; they never gather for one another, so a slow fact fails
// only the checks that need it.
import type { Fingerprinter } from "../../shared/fingerprint.ts";
import type { CredentialKind } from "../checks/check.ts";
import type { OpenClawWorld } from "../discovery/openclaw-world.ts";
import type { CommandRunner } from "../platform/command-runner.ts";
import type { RunCaches } from "./run-caches.ts";

export interface ObservationContext {
  /** Aborted when this observation's own deadline passes. */
  signal: AbortSignal;
  world: OpenClawWorld;
  fingerprint: Fingerprinter;
  /** Platform commands go through here, so tests replay recorded output. */
  runner: CommandRunner;
  platform: NodeJS.Platform;
  /** What may outlive the run, each entry with its invalidation (see run-caches.ts). */
  caches: RunCaches;
  /** One of this observation's declared `requires`, gathered once for the whole run. */
  observe<T>(observation: Observation<T>): Promise<T>;
  /** Records a secret the host uses; only its fingerprint is kept. */
  noteCredential(credential: { kind: CredentialKind; source: string; secret: string; subject: string }): void;
}

export interface Observation<T> {
  /** Unique among observations; names the `check_timeout` when it runs out of time. */
  readonly name: string;
  readonly deadlineMs: number;
  /** Observations this one is computed from. */
  readonly requires: readonly Observation<unknown>[];
  gather(ctx: ObservationContext): Promise<T>;
}

export function observation<T>(name: string, deadlineMs: number, requires: readonly Observation<unknown>[], gather: (ctx: ObservationContext) => Promise<T>): Observation<T> {
  return { name, deadlineMs, requires, gather };
}

/** Thrown to whoever awaits an observation that timed out or crashed. */
export class ObservationUnavailable extends Error {
  readonly observation: string;
  readonly reason: "timeout" | "error";
  readonly detail: string;
  constructor(observation: string, reason: "timeout" | "error", detail: string) {
    super(`the ${observation} observation ${reason === "timeout" ? "did not finish in time" : `failed: ${detail}`}`);
    this.observation = observation;
    this.reason = reason;
    this.detail = detail;
  }
}

/** The observation's value, or `fallback` when it is unavailable (for facts that only enrich a verdict). */
export async function orElse<T>(pending: Promise<T>, fallback: T): Promise<T> {
  try {
    return await pending;
  } catch (error) {
    if (error instanceof ObservationUnavailable) return fallback;
    throw error;
  }
}
