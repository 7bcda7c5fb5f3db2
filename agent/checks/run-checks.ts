// Runs every check concurrently, each under its own deadline, and turns the
// findings into a verdict with a primary root cause.
import { linkDependencies, primaryFinding, problem, verdictOf, type Finding, type Verdict } from "../../shared/finding.ts";
import type { Fingerprinter } from "../../shared/fingerprint.ts";
import type { OpenClawWorld } from "../discovery/openclaw-world.ts";
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
}

class DeadlineExceeded extends Error {}

export interface RunInput {
  world: OpenClawWorld;
  fingerprint: Fingerprinter;
  runner: CommandRunner;
  platform: NodeJS.Platform;
}

export async function runChecks(checks: readonly Check[], input: RunInput): Promise<CheckRun> {
  const startedAtMs = Date.now();
  const started = performance.now();
  const shared = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, compute: () => Promise<T>): Promise<T> => {
    if (!shared.has(key)) shared.set(key, compute());
    return shared.get(key) as Promise<T>;
  };
  const credentials = new Map<string, CredentialRecord>();
  const noteCredential: CheckContext["noteCredential"] = ({ kind, source, secret, subject }) => {
    if (!secret) return;
    const fingerprint = input.fingerprint(secret);
    credentials.set(`${kind}\0${source}\0${fingerprint}`, { kind, source, fingerprint, subject });
  };
  const results = await Promise.all(checks.map((check) => runOne(check, { ...input, once, noteCredential })));
  const findings = linkDependencies(results.flat());
  return {
    startedAtMs,
    durationMs: Math.round(performance.now() - started),
    verdict: verdictOf(findings),
    primary: primaryFinding(findings),
    findings,
    credentials: [...credentials.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.source.localeCompare(b.source)),
  };
}

async function runOne(check: Check, base: Omit<CheckContext, "signal">): Promise<Finding[]> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new DeadlineExceeded());
      reject(new DeadlineExceeded());
    }, check.deadlineMs);
  });
  try {
    return await Promise.race([check.run({ ...base, signal: controller.signal }), deadline]);
  } catch (error) {
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
