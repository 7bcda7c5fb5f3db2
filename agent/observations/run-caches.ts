// The only state that outlives a check run. Each cache says what invalidates
// an entry; nothing else is kept between runs (no module-level maps).
import { createSleepTargetsCache, createSuspendTracker, type SleepTargetsCache } from "../platform/linux-power.ts";
import type { HandshakeResult } from "../probes/gateway-handshake.ts";
import type { UserManagerCache } from "../discovery/gateway-service.ts";
import type { AuthStoreCache } from "../discovery/auth-store.ts";
import { newPortOwnerMemory, type PortOwnerMemory } from "../discovery/live-gateway.ts";

/** How long a rejected token is not re-sent to the same gateway process. */
export const REJECTION_MEMORY_MS = 10 * 60_000;
const NODE_VERSION_ENTRIES = 32;

export interface RunCaches {
  /**
   * Rejected handshakes by (token fingerprint, port, gateway pid and start time):
   * the daemon must not knock with the same bad token every interval, each costing
   * the gateway's growing auth delay and counting toward its lockout. A restarted
   * gateway (new pid or start time) is a new key, so it is tried again; an entry
   * expires after REJECTION_MEMORY_MS.
   */
  tokenRejections: Map<string, { result: HandshakeResult; atMs: number }>;
  /** `node --version` by executable path and mtime: a replaced binary is a new key. */
  nodeVersions: Map<string, string>;
  /**
   * The last suspend-clock reading on Linux: a resume is seen as the suspended
   * time growing between two runs (`agent check` runs once, so it sees one reading).
   */
  suspendTracker: ReturnType<typeof createSuspendTracker>;
  /** Linux: `systemctl is-enabled` of the sleep targets, until a unit directory changes (linux-power.ts). */
  sleepTargets: SleepTargetsCache;
  /**
   * Restart counters (launchd `runs`, systemd NRestarts) by service, one sample
   * per run: a counter climbing between runs is a crash loop that one look
   * cannot date. Samples older than RESTART_MEMORY_MS are dropped; a counter
   * that went down (the job was reloaded, the unit started by hand) starts over.
   */
  restartCounters: Map<string, RestartSample[]>;
  /** Linux: the gateway port's owner and that process's install and state file (live-gateway.ts). */
  portOwners: PortOwnerMemory;
  /** Linux: a systemd user manager that could not be reached, until its bus appears (gateway-service.ts). */
  userManager: UserManagerCache;
  /** OpenClaw's credential stores as last read, until the database or its -wal changes (auth-store.ts). */
  authStores: AuthStoreCache;
}

export interface RestartSample {
  count: number;
  atMs: number;
}

/** How long restart samples are kept: the crash-loop window, with room for a slow interval. */
export const RESTART_MEMORY_MS = 15 * 60_000;
const RESTART_SERVICES = 16;

export function newRunCaches(): RunCaches {
  return { tokenRejections: new Map(), nodeVersions: new Map(), suspendTracker: createSuspendTracker(), sleepTargets: createSleepTargetsCache(), restartCounters: new Map(), portOwners: newPortOwnerMemory(), userManager: {}, authStores: new Map() };
}

/** Adds this run's reading of a restart counter; returns the samples kept (oldest first, this one last). */
export function rememberRestartCount(caches: RunCaches, key: string, count: number, nowMs: number): RestartSample[] {
  const kept = (caches.restartCounters.get(key) ?? []).filter((s) => nowMs - s.atMs < RESTART_MEMORY_MS && s.count <= count);
  const samples = [...kept, { count, atMs: nowMs }];
  if (!caches.restartCounters.has(key) && caches.restartCounters.size >= RESTART_SERVICES) caches.restartCounters.delete(caches.restartCounters.keys().next().value!);
  caches.restartCounters.set(key, samples);
  return samples;
}

export function rememberRejection(caches: RunCaches, key: string, result: HandshakeResult, nowMs: number): void {
  for (const [old, entry] of caches.tokenRejections) if (nowMs - entry.atMs >= REJECTION_MEMORY_MS) caches.tokenRejections.delete(old);
  caches.tokenRejections.set(key, { result, atMs: nowMs });
}

export function rememberedRejection(caches: RunCaches, key: string, nowMs: number): HandshakeResult | undefined {
  const entry = caches.tokenRejections.get(key);
  return entry && nowMs - entry.atMs < REJECTION_MEMORY_MS ? entry.result : undefined;
}

export function rememberNodeVersion(caches: RunCaches, key: string, version: string): void {
  if (caches.nodeVersions.size >= NODE_VERSION_ENTRIES) caches.nodeVersions.delete(caches.nodeVersions.keys().next().value!);
  caches.nodeVersions.set(key, version);
}
