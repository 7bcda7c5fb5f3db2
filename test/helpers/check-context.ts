// Runs one check in-process against a world and pre-made observations, for the
// cases a real gateway cannot be put in here (bound to 0.0.0.0, auth off).
import type { Check, CheckContext } from "../../agent/checks/check.ts";
import type { OpenClawWorld } from "../../agent/discovery/openclaw-world.ts";
import { replayRunner, type CommandRunner } from "../../agent/platform/command-runner.ts";
import { linkDependencies, type Finding } from "../../shared/finding.ts";
import { localFingerprint } from "../../shared/fingerprint.ts";

export async function runCheckWith(check: Check, world: OpenClawWorld, observations: Record<string, unknown>, runner: CommandRunner = replayRunner({}), platform: NodeJS.Platform = "linux"): Promise<Finding[]> {
  const shared = new Map<string, Promise<unknown>>(Object.entries(observations).map(([k, v]) => [k, Promise.resolve(v)]));
  const ctx: CheckContext = {
    signal: AbortSignal.timeout(check.deadlineMs),
    world,
    fingerprint: localFingerprint,
    runner,
    platform,
    noteCredential() {},
    once<T>(key: string, compute: () => Promise<T>): Promise<T> {
      if (!shared.has(key)) shared.set(key, compute());
      return shared.get(key) as Promise<T>;
    },
  };
  return linkDependencies(await check.run(ctx));
}
