// macOS power state from one-shot commands: `pmset -g` (settings), `pmset -g
// assertions` (who holds sleep off), `pmset -g therm` (thermal/performance
// warnings, CPU limits) and `sysctl kern.sleeptime kern.waketime
// kern.wakereason kern.boottime` (last sleep and wake). Formats follow Apple's
// pmset source (apple-oss-distributions/PowerManagement, pmset/pmset.m) and
// recorded outputs in test/fixtures/macos. Never the streaming modes
// (thermlog, pslog, assertionslog: they do not exit) nor `pmset -g log` (huge).
import type { CommandRunner } from "./command-runner.ts";

const PMSET_TIMEOUT_MS = 1500;

export interface PmsetSettings {
  /** Live settings by pmset's display name ("sleep", "Sleep On Power Button"…), value text as printed. */
  settings: Record<string, string>;
  /** `SleepDisabled` from the "System-wide power settings" header (`pmset disablesleep`); absent on most Macs. */
  sleepDisabled?: boolean;
  /** Processes named in "(sleep prevented by a, b)" after the sleep value: assertions held right now. */
  sleepPreventedBy: string[];
  /** The output had the "Currently in use:" section at all. */
  recognised: boolean;
}

/** Numeric value of a setting, or undefined. */
export function settingNumber(settings: PmsetSettings, key: string): number | undefined {
  const value = settings.settings[key];
  return value !== undefined && /^-?\d+$/.test(value) ? Number(value) : undefined;
}

/**
 * `pmset -g`. Each setting line is printf(" %-20s ", name) then the value, so
 * names with spaces ("Sleep On Power Button") run into their value with a
 * single space; the value is therefore the last word, after an optional
 * "(sleep prevented by …)" / "(display sleep prevented by …)" note is cut off
 * (process names in it may themselves contain parentheses).
 */
export function parsePmsetSettings(text: string): PmsetSettings {
  const settings: Record<string, string> = {};
  let sleepDisabled: boolean | undefined;
  let sleepPreventedBy: string[] = [];
  let section: "system" | "live" | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    if (line.startsWith("System-wide power settings:")) { section = "system"; continue; }
    if (line.startsWith("Currently in use:")) { section = "live"; continue; }
    if (!line.trim() || !section) continue;
    let body = line.trim();
    let note: string | undefined;
    const noteAt = body.search(/ \((?:display )?sleep prevented by /);
    if (noteAt >= 0) {
      note = body.slice(noteAt + 2);
      body = body.slice(0, noteAt).trim();
    }
    if (body.endsWith(GRAPHICS_DIM)) body = body.slice(0, -GRAPHICS_DIM.length).trimEnd();
    const split = splitLastWord(body);
    if (!split) continue;
    const [key, value] = split;
    if (section === "system") {
      if (key === "SleepDisabled") sleepDisabled = value === "1";
      continue;
    }
    settings[key] = value;
    if (key === "sleep" && note?.startsWith("sleep prevented by ")) {
      sleepPreventedBy = note.slice("sleep prevented by ".length).replace(/\)$/, "").split(", ").map((s) => s.trim()).filter(Boolean);
    }
  }
  return { settings, sleepDisabled, sleepPreventedBy, recognised: section === "live" };
}

const GRAPHICS_DIM = "(Graphics dim captured)";
const SPACE = /\s/;

/**
 * "name words   value" → [name words, value]. By hand, not /^(.+?)\s+(\S+)$/:
 * that regex retries its whitespace run from every position of a long blank
 * stretch, which is quadratic (seconds on one 1 MB line).
 */
function splitLastWord(body: string): [string, string] | undefined {
  let valueStart = body.length;
  while (valueStart > 0 && !SPACE.test(body[valueStart - 1]!)) valueStart--;
  let keyEnd = valueStart;
  while (keyEnd > 0 && SPACE.test(body[keyEnd - 1]!)) keyEnd--;
  if (valueStart === body.length || keyEnd === valueStart || keyEnd === 0) return undefined;
  return [body.slice(0, keyEnd), body.slice(valueStart)];
}

export interface PowerAssertion {
  pid: number;
  process: string;
  type: string;
  name: string;
  /** How long it has been held, seconds (the HH:MM:SS column; absent on old releases). */
  ageSeconds?: number;
  /** "Timeout will fire in N secs": it releases itself. */
  timeoutSeconds?: number;
  details?: string;
  /**
   * The process it is held for: caffeinate's "asserting on behalf of Process
   * ID N" (-w N) or "on behalf of 'cmd' (pid N)", or powerd's "Created for
   * PID: N." (kIOPMAssertionOnBehalfOfPID).
   */
  onBehalfOfPid?: number;
}

export interface PmsetAssertions {
  /** "Assertion status system-wide:" levels by type. */
  systemWide: Record<string, number>;
  holders: PowerAssertion[];
  recognised: boolean;
}

/**
 * `pmset -g assertions`: the system-wide table (`   %-30s %d`), then
 * "Listed by owning process:" with `   pid N(name): [0x…] HH:MM:SS Type named: "…"`
 * and tab-indented detail lines, then kernel assertions.
 */
export function parsePmsetAssertions(text: string): PmsetAssertions {
  const systemWide: Record<string, number> = {};
  const holders: PowerAssertion[] = [];
  let section: "status" | "holders" | "other" | undefined;
  for (const raw of text.split("\n")) {
    const trimmed = raw.trim();
    if (trimmed.startsWith("Assertion status system-wide:")) { section = "status"; continue; }
    if (trimmed.startsWith("Listed by owning process:")) { section = "holders"; continue; }
    if (/^(Kernel Assertions:|No kernel assertions\.|Idle sleep preventers:)/.test(trimmed)) { section = "other"; continue; }
    if (section === "status") {
      const m = /^(\w+)\s+(\d+)$/.exec(trimmed);
      if (m) systemWide[m[1]!] = Number(m[2]);
      continue;
    }
    if (section !== "holders") continue;
    // Process names may contain parentheses ("Google Chrome Helper (GPU)"), hence the greedy name up to "): [";
    // releases before 10.9 print no name at all ("pid 1827: [0x…]").
    const holder = /^pid (\d+)(?:\((.*)\))?: \[0x[0-9a-fA-F]+\] (?:(\d+):(\d\d):(\d\d) )?(\S+) named: "(.*)"/.exec(trimmed);
    if (holder) {
      const [, pid, process, h, m, s, type, name] = holder;
      holders.push({
        pid: Number(pid), process: process ?? "", type: type!, name: name!,
        ageSeconds: h !== undefined ? Number(h) * 3600 + Number(m) * 60 + Number(s) : undefined,
      });
      continue;
    }
    const last = holders.at(-1);
    if (!last) continue;
    const timeout = /^Timeout will fire in (\d+) secs/.exec(trimmed);
    const createdFor = /^Created for PID: (\d+)/.exec(trimmed);
    if (timeout) last.timeoutSeconds = Number(timeout[1]);
    else if (createdFor) last.onBehalfOfPid = Number(createdFor[1]);
    else if (trimmed.startsWith("Details: ")) {
      last.details = trimmed.slice("Details: ".length);
      const behalf = /on behalf of (?:Process ID (\d+)|'.*' \(pid (\d+)\))/.exec(last.details);
      if (behalf) last.onBehalfOfPid = Number(behalf[1] ?? behalf[2]);
    }
  }
  return { systemWide, holders, recognised: section !== undefined };
}

/**
 * The assertion types that keep a Mac awake, and why (IOPMLib.h). The one
 * table: a process holding any of these holds system sleep off for as long as
 * it keeps it.
 */
export const KEEP_AWAKE_ASSERTIONS: Readonly<Record<string, string>> = {
  PreventUserIdleSystemSleep: "no idle system sleep (kIOPMAssertPreventUserIdleSystemSleep; `caffeinate -i`)",
  NoIdleSleepAssertion: "the pre-10.7 name of the same (kIOPMAssertionTypeNoIdleSleep), still what Electron's powerSaveBlocker takes",
  PreventSystemSleep: "no system sleep at all while on AC (`caffeinate -s`)",
};

/**
 * macOS's own holders whose keep-awake follows an activity that ends by
 * itself: they are named in the evidence, never as the reason a Mac stays up.
 */
const INCIDENTAL_HOLDERS: Readonly<Record<string, string>> = {
  powerd: "\"Prevent sleep while display is on\": until the display sleeps",
  sharingd: "Handoff: a short exchange with a nearby device",
  coreaudiod: "while audio plays",
  bluetoothd: "Bluetooth stack activity",
};

/**
 * Assertions we trust to keep the Mac awake indefinitely: a `caffeinate` that
 * holds a system-sleep assertion with no timeout. It still dies with its
 * process (logout, reboot, or the process it waits for with -w), which is
 * why the check names it as the only thing standing between the host and
 * sleep.
 */
export function deliberateKeepAwake(assertions: PmsetAssertions): PowerAssertion[] {
  return assertions.holders.filter((a) => Object.hasOwn(KEEP_AWAKE_ASSERTIONS, a.type) && a.timeoutSeconds === undefined && a.process === "caffeinate");
}

/** One process holding keep-awake assertions (caffeinate -is holds two). */
export interface AwakeHolder {
  pid: number;
  process: string;
  types: string[];
  /** The assertion's name ("Electron", "caffeinate command-line tool"). */
  name: string;
  /** Longest hold, seconds. */
  ageSeconds?: number;
  /** Set only when every hold of this process releases itself: the soonest. */
  timeoutSeconds?: number;
  onBehalfOfPid?: number;
  /** caffeinate with no timeout: a keep-awake someone set up on purpose. */
  deliberate: boolean;
  /** One of macOS's own short-lived holds (INCIDENTAL_HOLDERS). */
  incidental: boolean;
}

/** Every process holding a KEEP_AWAKE_ASSERTIONS type right now, longest-held first. */
export function keepAwakeHolders(assertions: PmsetAssertions): AwakeHolder[] {
  const byPid = new Map<number, PowerAssertion[]>();
  for (const a of assertions.holders) {
    if (!Object.hasOwn(KEEP_AWAKE_ASSERTIONS, a.type)) continue;
    byPid.set(a.pid, [...(byPid.get(a.pid) ?? []), a]);
  }
  const holders = [...byPid.values()].map((held): AwakeHolder => {
    const first = held[0]!;
    const ages = held.map((a) => a.ageSeconds).filter((n) => n !== undefined);
    const untimed = held.some((a) => a.timeoutSeconds === undefined);
    return {
      pid: first.pid,
      process: first.process,
      types: [...new Set(held.map((a) => a.type))],
      name: first.name,
      ageSeconds: ages.length > 0 ? Math.max(...ages) : undefined,
      timeoutSeconds: untimed ? undefined : Math.min(...held.map((a) => a.timeoutSeconds!)),
      onBehalfOfPid: held.find((a) => a.onBehalfOfPid !== undefined)?.onBehalfOfPid,
      deliberate: first.process === "caffeinate" && untimed,
      incidental: Object.hasOwn(INCIDENTAL_HOLDERS, first.process),
    };
  });
  return holders.sort((a, b) => (b.ageSeconds ?? -1) - (a.ageSeconds ?? -1));
}

/** `Claude (pid 70095, NoIdleSleepAssertion "Electron", held 59 h 22 min)`: who, which, how long. */
export function describeHolder(h: AwakeHolder): string {
  const parts = [`pid ${h.pid}`, `${h.types.join("+")} "${h.name}"`];
  if (h.ageSeconds !== undefined) parts.push(`held ${duration(h.ageSeconds)}`);
  if (h.timeoutSeconds !== undefined) parts.push(`releases itself in ${duration(h.timeoutSeconds)}`);
  if (h.onBehalfOfPid !== undefined) parts.push(`for process ${h.onBehalfOfPid}`);
  return `${h.process || "an unnamed process"} (${parts.join(", ")})`;
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export interface PmsetTherm {
  thermalWarningLevel?: number;
  performanceWarningLevel?: number;
  /** "CPU Power notify" values: CPU_Speed_Limit, CPU_Scheduler_Limit (percent, 100 = unthrottled), CPU_Available_CPUs. */
  cpu: Record<string, number>;
  recognised: boolean;
}

/**
 * `pmset -g therm`: per part either a "Note: No … has been recorded" line or a
 * dated value ("<date> Thermal Warning Level = N", "<date> CPU Power notify"
 * followed by tab-indented `Name \t= value` lines).
 */
export function parsePmsetTherm(text: string): PmsetTherm {
  const cpu: Record<string, number> = {};
  let thermalWarningLevel: number | undefined;
  let performanceWarningLevel: number | undefined;
  let recognised = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (/^Note: No (thermal warning level|performance warning level|CPU power status) has been recorded/.test(line)) { recognised = true; continue; }
    const thermal = /Thermal Warning Level\s*=\s*(\d+)/.exec(line);
    if (thermal) { thermalWarningLevel = Number(thermal[1]); recognised = true; continue; }
    const perf = /Performance Warning Level\s*=\s*(\d+)/.exec(line);
    if (perf) { performanceWarningLevel = Number(perf[1]); recognised = true; continue; }
    if (/CPU Power notify$/.test(line)) { recognised = true; continue; }
    const value = /^(CPU_\w+)\s*=\s*(\d+)$/.exec(line);
    if (value) { cpu[value[1]!] = Number(value[2]); recognised = true; }
  }
  return { thermalWarningLevel, performanceWarningLevel, cpu, recognised };
}

/** Human words for what is throttled, or undefined when nothing is. */
export function thermalPressure(therm: PmsetTherm): string | undefined {
  const parts: string[] = [];
  if ((therm.thermalWarningLevel ?? 0) > 0) parts.push(`thermal warning level ${therm.thermalWarningLevel}`);
  if ((therm.performanceWarningLevel ?? 0) > 0) parts.push(`performance warning level ${therm.performanceWarningLevel}`);
  for (const key of ["CPU_Speed_Limit", "CPU_Scheduler_Limit"]) {
    const limit = therm.cpu[key];
    if (limit !== undefined && limit < 100) parts.push(`${key} ${limit}%`);
  }
  return parts.length > 0 ? parts.join(", ") : undefined;
}

export interface SleepWake {
  /** Unix ms; undefined when the kernel reports 0 (no sleep since boot) or the oid is missing. */
  sleptAtMs?: number;
  wokeAtMs?: number;
  bootedAtMs?: number;
  /** kern.wakereason, e.g. "EC.LidOpen (User)", "RTC (Alarm)"; often empty. */
  wakeReason?: string;
}

export const SLEEP_WAKE_OIDS = ["kern.sleeptime", "kern.waketime", "kern.wakereason", "kern.boottime"] as const;

/**
 * `sysctl kern.sleeptime kern.waketime kern.wakereason kern.boottime` (named
 * form, not -n: a missing oid then cannot shift the others). Time oids print
 * `kern.waketime: { sec = 1421576213, usec = 39481 } Sun Jan 18 11:16:53 2015`;
 * `{ sec = 0, usec = 0 }` means it never happened since boot.
 */
export function parseSleepWakeSysctl(text: string): SleepWake {
  const out: SleepWake = {};
  for (const line of text.split("\n")) {
    const m = /^(kern\.\w+):\s?(.*)$/.exec(line.trimEnd());
    if (!m) continue;
    const [, oid, value] = m as unknown as [string, string, string];
    if (oid === "kern.wakereason") { if (value.trim()) out.wakeReason = value.trim(); continue; }
    const tv = /\{ sec = (\d+), usec = (\d+) \}/.exec(value);
    if (!tv) continue;
    const ms = Number(tv[1]) * 1000 + Math.floor(Number(tv[2]) / 1000);
    // An absurd count of seconds is no instant (and would not fit the report's int64).
    if (ms === 0 || !Number.isSafeInteger(ms)) continue;
    if (oid === "kern.sleeptime") out.sleptAtMs = ms;
    if (oid === "kern.waketime") out.wokeAtMs = ms;
    if (oid === "kern.boottime") out.bootedAtMs = ms;
  }
  return out;
}

export interface MacPowerReadings {
  settings?: PmsetSettings;
  assertions?: PmsetAssertions;
  therm?: PmsetTherm;
  sleepWake?: SleepWake;
  /** Commands that failed, with why: evidence, not a crash. */
  failures: string[];
}

/** Runs the four commands concurrently, each with its own short timeout. */
export async function readMacPower(runner: CommandRunner, signal?: AbortSignal): Promise<MacPowerReadings> {
  const failures: string[] = [];
  const run = async (command: string, args: string[]) => {
    const line = [command, ...args].join(" ");
    const result = await runner.run(command, args, { timeoutMs: PMSET_TIMEOUT_MS, signal });
    // sysctl exits non-zero when one oid is unknown but still prints the rest.
    if (result.exitCode !== 0 && !result.stdout.trim()) {
      const why = result.exitCode === 127 ? "not available" : result.exitCode === 124 ? "timed out" : `exited ${result.exitCode}${result.stderr.trim() ? `: ${result.stderr.trim().split("\n")[0]!.slice(0, 160)}` : ""}`;
      failures.push(`\`${line}\` ${why}`);
      return undefined;
    }
    return result.stdout;
  };
  const [g, assertions, therm, sysctl] = await Promise.all([
    run("pmset", ["-g"]),
    run("pmset", ["-g", "assertions"]),
    run("pmset", ["-g", "therm"]),
    run("sysctl", [...SLEEP_WAKE_OIDS]),
  ]);
  const readings: MacPowerReadings = { failures };
  if (g !== undefined) {
    readings.settings = parsePmsetSettings(g);
    if (!readings.settings.recognised) failures.push("`pmset -g` printed no \"Currently in use:\" section");
  }
  if (assertions !== undefined) {
    readings.assertions = parsePmsetAssertions(assertions);
    if (!readings.assertions.recognised) failures.push("`pmset -g assertions` output was not recognised");
  }
  if (therm !== undefined) {
    readings.therm = parsePmsetTherm(therm);
    if (!readings.therm.recognised) failures.push("`pmset -g therm` output was not recognised");
  }
  if (sysctl !== undefined) readings.sleepWake = parseSleepWakeSysctl(sysctl);
  return readings;
}
