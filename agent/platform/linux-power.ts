// Linux power state, without the journal: can this host suspend at all, and
// how long has it been suspended since boot, measured from two kernel clocks.
//
// CLOCK_BOOTTIME counts suspended time, CLOCK_MONOTONIC does not (both start
// at boot on Linux; clock_gettime(2)), so their difference is the total time
// spent suspended since boot. Sources: /proc/uptime's first field is
// CLOCK_BOOTTIME (fs/proc/uptime.c, ktime_get_boottime_ts64); Node's
// process.hrtime is CLOCK_MONOTONIC (libuv uv_hrtime → clock_gettime(CLOCK_MONOTONIC)).
// os.uptime() is *also* boottime on Linux (libuv uv_uptime reads /proc/uptime,
// falling back to CLOCK_BOOTTIME), so it would do, but it is read here from
// /proc/uptime directly for its 10 ms resolution and one less layer.
// Caveat: a time namespace (container) may offset the two clocks differently;
// the difference is then off by that constant, which is why a single reading
// only counts as "suspended" above a margin and the daemon trusts growth
// between readings more than any absolute value.
import { statSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import type { CommandResult, CommandRunner } from "./command-runner.ts";
import { parseUnitFile } from "./systemd.ts";

/** Targets whose mask state decides whether logind can suspend (systemd-suspend.service(8)). */
export const SLEEP_TARGETS = ["sleep.target", "suspend.target", "hibernate.target", "hybrid-sleep.target"] as const;

/** Below this, clock difference is measurement noise (two reads, 10 ms /proc resolution), not a suspend. */
export const SUSPEND_NOISE_MS = 2000;

export interface LinuxPowerSources {
  readFile(path: string): Promise<string>;
  readDir(path: string): Promise<string[]>;
  /** CLOCK_MONOTONIC, milliseconds. */
  monotonicMs(): number;
  /** Wall clock, Unix ms. */
  nowMs(): number;
}

export const systemSources: LinuxPowerSources = {
  readFile: (path) => readFile(path, "utf8"),
  readDir: (path) => readdir(path),
  monotonicMs: () => Number(process.hrtime.bigint()) / 1e6,
  nowMs: () => Date.now(),
};

export interface SuspendCapability {
  /** Kernel sleep states from /sys/power/state ("freeze mem disk"); empty = the kernel cannot suspend (many VMs). */
  kernelStates?: string[];
  /** `systemctl is-enabled` per target ("static", "masked"…). */
  targets?: Record<string, string>;
  /** true/false when known; undefined when neither source could be read. */
  possible?: boolean;
  /** One sentence: why. */
  reason: string;
}

export interface SuspendClock {
  /** CLOCK_BOOTTIME − CLOCK_MONOTONIC: total time suspended since boot. */
  suspendedMs: number;
  bootedAtMs: number;
  observedAtMs: number;
}

export interface LinuxPowerReadings {
  capability: SuspendCapability;
  clock?: SuspendClock;
  /** A suspend seen between two readings of this process: it resumed no earlier than `afterMs`. */
  resumed?: { afterMs: number; beforeMs: number; suspendedMs: number };
  /** logind's IdleAction= (default "ignore"): "suspend" and friends sleep an idle host by themselves. */
  idleAction?: string;
  failures: string[];
}

/** Parses /sys/power/state. */
export function parseKernelSleepStates(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

/**
 * `systemctl is-enabled a b c d` prints one state per unit it found, in order;
 * a unit it cannot find is reported on stderr only, which would shift the
 * lines, so a short answer is treated as unknown rather than misattributed.
 */
export function parseIsEnabled(stdout: string, units: readonly string[]): Record<string, string> | undefined {
  const lines = stdout.split("\n").map((l) => l.trim()).filter(Boolean);
  if (lines.length !== units.length) return undefined;
  return Object.fromEntries(units.map((u, i) => [u, lines[i]!]));
}

/** Whether anything can put the host to sleep: the kernel must offer a state and systemd must not have the targets masked. */
export function suspendCapability(kernelStates: string[] | undefined, targets: Record<string, string> | undefined): SuspendCapability {
  const masked = targets ? Object.entries(targets).filter(([, s]) => s.startsWith("masked")).map(([u]) => u) : [];
  if (kernelStates && kernelStates.length === 0) {
    return { kernelStates, targets, possible: false, reason: "the kernel offers no sleep state (/sys/power/state is empty)" };
  }
  if (targets) {
    if (masked.includes("sleep.target")) return { kernelStates, targets, possible: false, reason: "sleep.target is masked" };
    const ways = ["suspend.target", "hibernate.target", "hybrid-sleep.target"];
    if (ways.every((u) => masked.includes(u))) return { kernelStates, targets, possible: false, reason: `${ways.join(", ")} are masked` };
    const open = ways.filter((u) => !masked.includes(u));
    const kernel = kernelStates ? ` and the kernel offers ${kernelStates.join(" ")}` : "";
    return { kernelStates, targets, possible: true, reason: `${open.join(", ")} ${open.length === 1 ? "is" : "are"} not masked${kernel}` };
  }
  if (kernelStates) return { kernelStates, targets, possible: true, reason: `the kernel offers ${kernelStates.join(" ")} and systemd's sleep targets could not be checked` };
  return { kernelStates, targets, possible: undefined, reason: "neither /sys/power/state nor systemd's sleep targets could be read" };
}

/** CLOCK_BOOTTIME − CLOCK_MONOTONIC from /proc/uptime and the monotonic clock, read around it. */
export async function readSuspendClock(sources: LinuxPowerSources): Promise<SuspendClock> {
  const before = sources.monotonicMs();
  const uptime = await sources.readFile("/proc/uptime");
  const after = sources.monotonicMs();
  const boottimeSeconds = Number(uptime.trim().split(/\s+/)[0]);
  if (!Number.isFinite(boottimeSeconds)) throw new Error("/proc/uptime does not start with a number");
  // The file was read somewhere between the two monotonic readings: take the middle.
  const monotonic = (before + after) / 2;
  const observedAtMs = sources.nowMs();
  const suspendedMs = Math.max(0, boottimeSeconds * 1000 - monotonic);
  return { suspendedMs, bootedAtMs: observedAtMs - boottimeSeconds * 1000, observedAtMs };
}

/**
 * Remembers the previous clock reading of this process: in the daemon, growth
 * of the suspended total between two readings dates a suspend to that window.
 * A reading from another boot (boot time moved) starts over.
 */
export function createSuspendTracker(): (clock: SuspendClock) => LinuxPowerReadings["resumed"] {
  let previous: SuspendClock | undefined;
  let lastResume: LinuxPowerReadings["resumed"];
  return (clock) => {
    if (previous && Math.abs(previous.bootedAtMs - clock.bootedAtMs) < 60_000) {
      const grown = clock.suspendedMs - previous.suspendedMs;
      if (grown > SUSPEND_NOISE_MS) {
        // It went to sleep after the previous reading and slept `grown` ms, so it woke no earlier than this.
        lastResume = { afterMs: Math.min(previous.observedAtMs + grown, clock.observedAtMs), beforeMs: clock.observedAtMs, suspendedMs: grown };
      }
    } else {
      lastResume = undefined;
    }
    previous = clock;
    return lastResume;
  };
}

/**
 * logind's IdleAction= from /etc/systemd/logind.conf and its drop-ins
 * (logind.conf(5): drop-ins in lexical order, the last assignment wins). The
 * vendor copy under /usr only restates the default, "ignore".
 */
export async function readIdleAction(sources: LinuxPowerSources): Promise<string | undefined> {
  const dropInDir = "/etc/systemd/logind.conf.d";
  const dropIns = (await sources.readDir(dropInDir).catch(() => [] as string[])).filter((n) => n.endsWith(".conf")).sort();
  let action: string | undefined;
  for (const path of ["/etc/systemd/logind.conf", ...dropIns.map((n) => `${dropInDir}/${n}`)]) {
    const text = await sources.readFile(path).catch(() => undefined);
    if (text === undefined) continue;
    for (const d of parseUnitFile(text, path).directives) if (d.section === "Login" && d.key === "IdleAction") action = d.value;
  }
  return action;
}

/**
 * Where a mask or a new unit file for the sleep targets lands: the system unit
 * search path (systemd.unit(5)). `systemctl mask` links the unit to /dev/null
 * in /etc/systemd/system (or /run/systemd/system with --runtime), a package
 * replaces a unit file in /usr/lib/systemd/system: each moves its directory's mtime.
 */
export const SYSTEM_UNIT_DIRS = [
  "/etc/systemd/system.control", "/run/systemd/system.control", "/run/systemd/transient", "/run/systemd/generator.early",
  "/etc/systemd/system", "/etc/systemd/system.attached", "/run/systemd/system", "/run/systemd/system.attached",
  "/run/systemd/generator", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system",
  "/run/systemd/generator.late",
] as const;

/** Even with no directory changed, the targets are asked again after this (a path this list misses). */
export const SLEEP_TARGETS_MAX_AGE_MS = 10 * 60_000;

/**
 * A daemon's memory of `systemctl is-enabled <sleep targets>`: the answer
 * holds while no unit directory changed (inode and mtime of each) and for at
 * most SLEEP_TARGETS_MAX_AGE_MS, so a healthy cycle starts no systemctl for it.
 */
export interface SleepTargetsCache {
  dirs: readonly string[];
  entry?: { key: string; result: CommandResult; atMs: number };
}

export function createSleepTargetsCache(dirs: readonly string[] = SYSTEM_UNIT_DIRS): SleepTargetsCache {
  return { dirs };
}

function unitDirsKey(dirs: readonly string[]): string {
  return dirs.map((dir) => {
    const info = statSync(dir, { throwIfNoEntry: false, bigint: true });
    return info ? `${info.ino}:${info.mtimeNs}` : "-";
  }).join(" ");
}

async function sleepTargetStates(runner: CommandRunner, signal: AbortSignal | undefined, cache: SleepTargetsCache | undefined, nowMs: number): Promise<CommandResult> {
  const key = cache ? unitDirsKey(cache.dirs) : "";
  if (cache?.entry && cache.entry.key === key && nowMs - cache.entry.atMs < SLEEP_TARGETS_MAX_AGE_MS) return cache.entry.result;
  const result = await runner.run("systemctl", ["is-enabled", ...SLEEP_TARGETS], { timeoutMs: 1500, signal });
  // Only an answer is remembered: a timeout or a missing systemctl is asked again next time.
  if (cache) cache.entry = parseIsEnabled(result.stdout, SLEEP_TARGETS) ? { key, result, atMs: nowMs } : undefined;
  return result;
}

export async function readLinuxPower(
  runner: CommandRunner,
  options: { signal?: AbortSignal; sources?: LinuxPowerSources; tracker?: ReturnType<typeof createSuspendTracker>; sleepTargets?: SleepTargetsCache } = {},
): Promise<LinuxPowerReadings> {
  const sources = options.sources ?? systemSources;
  const failures: string[] = [];
  const [kernelStates, targets, clock, idleAction] = await Promise.all([
    sources.readFile("/sys/power/state").then(parseKernelSleepStates, (e: NodeJS.ErrnoException) => {
      failures.push(`cannot read /sys/power/state: ${e.code ?? e.message}`);
      return undefined;
    }),
    sleepTargetStates(runner, options.signal, options.sleepTargets, sources.nowMs()).then((r) => {
      // is-enabled exits non-zero for masked/disabled units: the lines are the answer, not the status.
      const parsed = parseIsEnabled(r.stdout, SLEEP_TARGETS);
      if (!parsed) failures.push(`\`systemctl is-enabled ${SLEEP_TARGETS.join(" ")}\` ${r.exitCode === 127 ? "is not available" : `gave no usable answer (exit ${r.exitCode})`}`);
      return parsed;
    }),
    readSuspendClock(sources).catch((e: NodeJS.ErrnoException) => {
      failures.push(`cannot measure suspended time: ${e.code ? `/proc/uptime: ${e.code}` : e.message}`);
      return undefined;
    }),
    readIdleAction(sources),
  ]);
  const resumed = clock ? (options.tracker ?? createSuspendTracker())(clock) : undefined;
  return { capability: suspendCapability(kernelStates, targets), clock, resumed, idleAction, failures };
}
