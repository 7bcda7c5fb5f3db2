// Runs every check concurrently, each under its own deadline, over the
// observations they declare (each gathered once, under its own deadline), and
// turns the findings into a verdict with a primary root cause.
import { linkDependencies, primaryFinding, problem, skipped, verdictOf, type Finding, type Verdict } from "../../shared/finding.ts";
import type { Fingerprinter } from "../../shared/fingerprint.ts";
import type { OpenClawWorld } from "../discovery/openclaw-world.ts";
import { ObservationUnavailable, type Observation } from "../observations/observation.ts";
import { createObserver, type ObservationFailure, type Observer } from "../observations/observer.ts";
import { newRunCaches, type RunCaches } from "../observations/run-caches.ts";
import type { CommandRunner } from "../platform/command-runner.ts";
import type { Check, CheckContext, CredentialRecord } from "./check.ts";

export interface CheckRun {
  startedAtMs: number;
  durationMs: number;
  verdict: Verdict;
  primary: Finding | null;
  findings: Finding[];
  /** Secrets seen during the run, as fingerprints, one entry per kind, source and value. */
  credentials: CredentialRecord[];
  /** The observations gathered for the findings, by name (read with `observedIn`); absent in a run built by hand. */
  observed?: ReadonlyMap<string, unknown>;
}

/** An observation's value in this run, if a check asked for it and it was gathered. */
export function observedIn<T>(run: CheckRun, observation: Observation<T>): T | undefined {
  return run.observed?.get(observation.name) as T | undefined;
}

class DeadlineExceeded extends Error {}

export interface RunInput {
  world: OpenClawWorld;
  fingerprint: Fingerprinter;
  runner: CommandRunner;
  platform: NodeJS.Platform;
  /** Kept by a daemon between runs; a one-shot check starts empty. */
  caches?: RunCaches;
  /** Observation values by name, standing in for gathering them (tests of one check). */
  preset?: ReadonlyMap<string, unknown>;
}

export async function runChecks(checks: readonly Check[], input: RunInput): Promise<CheckRun> {
  const startedAtMs = Date.now();
  const started = performance.now();
  const credentials = new Map<string, CredentialRecord>();
  const noteCredential: CheckContext["noteCredential"] = ({ kind, source, secret, subject }) => {
    if (!secret) return;
    const fingerprint = input.fingerprint(secret);
    credentials.set(`${kind}\0${source}\0${fingerprint}`, { kind, source, fingerprint, subject });
  };
  const { world, fingerprint, runner, platform } = input;
  const caches = input.caches ?? newRunCaches();
  const observer = createObserver({ world, fingerprint, runner, platform, noteCredential, caches }, input.preset);
  const results = await Promise.all(checks.map((check) => runOne(check, observer, { world, fingerprint, runner, platform, noteCredential, caches })));
  const findings = linkDependencies([...results.flat(), ...observer.failures().map(observationFinding)]);
  return {
    startedAtMs,
    durationMs: Math.round(performance.now() - started),
    verdict: verdictOf(findings),
    primary: primaryFinding(findings),
    findings,
    credentials: [...credentials.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.source.localeCompare(b.source)),
    observed: observer.gathered(),
  };
}

export async function runOne(check: Check, observer: Observer, base: Omit<CheckContext, "signal" | "observe">): Promise<Finding[]> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new DeadlineExceeded());
      reject(new DeadlineExceeded());
    }, check.deadlineMs);
  });
  const ctx: CheckContext = { ...base, signal: controller.signal, observe: (observation) => observer.observe(observation, check.observes, `the ${check.name} check`) };
  try {
    return await Promise.race([check.run(ctx), deadline]);
  } catch (error) {
    if (error instanceof ObservationUnavailable) {
      // Reported once by the run as the observation's own finding; here only why this check has no verdict.
      return [skipped(check.name, check.layer, `Not judged: ${error.message}.`, { observation: error.observation })];
    }
    if (error instanceof DeadlineExceeded || controller.signal.aborted) {
      return [problem(check.name, "check_timeout", `The ${check.name} check did not finish within ${check.deadlineMs} ms.`, {
        check: check.name,
        deadlineMs: String(check.deadlineMs),
      })];
    }
    const message = error instanceof Error ? error.message : String(error);
    return [problem(check.name, "check_error", `The ${check.name} check crashed: ${message}`, { check: check.name, error: message })];
  } finally {
    clearTimeout(timer);
  }
}

/** An observation that timed out or failed, as the one finding that says so (named as a check is, for the wire). */
function observationFinding(failure: ObservationFailure): Finding {
  const check = failure.name;
  return failure.reason === "timeout"
    ? problem(check, "check_timeout", `Observing ${failure.name} did not finish within ${failure.deadlineMs} ms.`, { check, deadlineMs: String(failure.deadlineMs) })
    : problem(check, "check_error", `Observing ${failure.name} failed: ${failure.detail}`, { check, error: failure.detail });
}
