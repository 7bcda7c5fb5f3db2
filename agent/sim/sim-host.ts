// One simulated host: who it is and the facts its findings quote (paths,
// ports, versions, the DNS name), drawn once from the seeded generator so a
// node says the same things in every report, as a real host does.
import type { Condition } from "./failure-mix.ts";
import type { Random } from "./seeded-random.ts";

export interface SimHost {
  nodeId: string;
  hostname: string;
  platform: "darwin" | "linux";
  condition: Condition;
  /** May sleep: its power check says so, and it goes silent and wakes on the sleep cycle. */
  sleeper: boolean;
  home: string;
  port: number;
  pid: number;
  gatewayStartedAtMs: number;
  openclawVersion: string;
  nodeVersion: string;
  dnsName: string;
  /** The host's secrets: only their keyed fingerprints leave the simulator, as with a real agent. */
  gatewayToken: string;
  providerKey: string;
  /** How long its check run takes, ms (real runs: a few hundred). */
  checkMs: number;
}

export const OPENCLAW_VERSION = "2026.9.6";

export function simHost(options: { nodeId: string; condition: Condition; sleeper: boolean; seed: number; random: Random; nowMs: number }): SimHost {
  const { random, nodeId } = options;
  // Mostly Mac minis, some Linux boxes under systemd, as the fleets this is for.
  const platform = random() < 0.8 ? "darwin" : "linux";
  return {
    nodeId,
    hostname: platform === "darwin" ? `${nodeId}.local` : nodeId,
    platform,
    condition: options.condition,
    sleeper: options.sleeper,
    home: platform === "darwin" ? "/Users/openclaw" : "/home/openclaw",
    port: 18789,
    pid: 1000 + Math.floor(random() * 60_000),
    gatewayStartedAtMs: options.nowMs - Math.floor(random() * 14 * 86_400_000),
    openclawVersion: OPENCLAW_VERSION,
    nodeVersion: "v24.16.0",
    dnsName: `${nodeId}.tail4c2e1.ts.net`,
    gatewayToken: `sim-${options.seed}-${nodeId}-gateway-token`,
    providerKey: `sim-${options.seed}-${nodeId}-anthropic-key`,
    checkMs: 250 + Math.floor(random() * 600),
  };
}
