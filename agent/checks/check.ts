// The one shape every check has (blackbox_exporter's ProbeFn, with a reason):
// a named judge from the observations it declares to findings, run under its
// own deadline. Checks import no other check; what several need is an
// observation (agent/observations/).
import type { Finding } from "../../shared/finding.ts";
import type { Fingerprinter } from "../../shared/fingerprint.ts";
import type { Layer } from "../../shared/taxonomy.ts";
import type { OpenClawWorld } from "../discovery/openclaw-world.ts";
import type { Observation } from "../observations/observation.ts";
import type { RunCaches } from "../observations/run-caches.ts";
import type { CommandRunner } from "../platform/command-runner.ts";

export interface CheckContext {
  /** Aborted when the check's deadline passes. */
  signal: AbortSignal;
  world: OpenClawWorld;
  fingerprint: Fingerprinter;
  /** Platform commands go through here, so tests replay recorded output. */
  runner: CommandRunner;
  platform: NodeJS.Platform;
  /**
   * One of the check's declared observations, gathered once per run under the
   * observation's own deadline; rejects with ObservationUnavailable when it
   * timed out or failed (the run reports that once, as its own finding).
   */
  observe<T>(observation: Observation<T>): Promise<T>;
  /**
   * Records a secret the host uses, for the fleet's inventory (shared secrets,
   * rotations). Only its fingerprint is kept; the value never leaves the call.
   */
  noteCredential(credential: { kind: CredentialKind; source: string; secret: string; subject: string }): void;
  /** What a daemon keeps between runs, each entry with its invalidation (run-caches.ts); absent in a check run by hand. */
  caches?: RunCaches;
}

export type CredentialKind = "gateway_token" | "provider_key";

/** A credential as reported: the fingerprint, never the value. */
export interface CredentialRecord {
  kind: CredentialKind;
  source: string;
  fingerprint: string;
  subject: string;
}

export interface Check {
  name: string;
  layer: Layer;
  /** Longest this check may take; a bad-token probe needs the gateway's auth delay. */
  deadlineMs: number;
  /** The observations `run` may ask for. */
  observes: readonly Observation<unknown>[];
  run(ctx: CheckContext): Promise<Finding[]>;
}
