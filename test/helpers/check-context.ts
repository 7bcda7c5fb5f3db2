// Runs one check in-process against a world and pre-made observations (by
// observation name), for the cases a real gateway cannot be put in here
// (bound to 0.0.0.0, auth off).
import type { Check } from "../../agent/checks/check.ts";
import { runChecks } from "../../agent/checks/run-checks.ts";
import type { OpenClawWorld } from "../../agent/discovery/openclaw-world.ts";
import { replayRunner, type CommandRunner } from "../../agent/platform/command-runner.ts";
import type { Finding } from "../../shared/finding.ts";
import { localFingerprint } from "../../shared/fingerprint.ts";

export async function runCheckWith(check: Check, world: OpenClawWorld, observations: Record<string, unknown>, runner: CommandRunner = replayRunner({}), platform: NodeJS.Platform = "linux"): Promise<Finding[]> {
  const run = await runChecks([check], { world, fingerprint: localFingerprint, runner, platform, preset: new Map(Object.entries(observations)) });
  return run.findings;
}
