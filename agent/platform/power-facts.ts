// One platform-neutral account of the host's power state, read once per run
// and shared: the power check turns it into findings, the report loop sends
// `may_sleep` / `last_wake_unix_ms` (a silent Mac that may sleep is "asleep",
// not "unreachable", at the collector).
import type { CommandRunner } from "./command-runner.ts";
import { readLinuxPower, SUSPEND_NOISE_MS, type LinuxPowerSources, type SleepTargetsCache, type createSuspendTracker } from "./linux-power.ts";
import { deliberateKeepAwake, describeHolder, keepAwakeHolders, readMacPower, settingNumber, thermalPressure, type AwakeHolder } from "./pmset.ts";

export interface PowerFacts {
  platform: NodeJS.Platform;
  /** False where nothing applies (Windows, BSD…). */
  supported: boolean;
  /**
   * Sleep is allowed at all: the sleep_enabled finding (fleet hosts must not
   * be able to sleep). undefined when it could not be read.
   */
  sleepPossible: boolean | undefined;
  /**
   * For the collector: a silent host is more likely asleep than dead. On macOS
   * the same as sleepPossible (an idle Mac with a sleep timer does sleep); on
   * Linux it also needs a reason to expect suspends (it has suspended since
   * boot, or logind's IdleAction suspends), else every silent server whose
   * kernel merely could suspend would be filed as "asleep" instead of paging.
   */
  maySleep: boolean;
  /** Why, in words, for the summary. */
  sleepReason: string;
  /** Unix ms of the last wake from sleep; 0 when none since boot or unknown. */
  lastWakeMs: number;
  /** Unix ms the last sleep began; 0 when unknown. */
  lastSleepMs: number;
  wakeReason?: string;
  /** Linux: a suspend is known to have happened at some point after this instant (boot), but not exactly when. */
  sleptSinceMs?: number;
  /** Linux: total time suspended since boot. */
  suspendedSinceBootMs?: number;
  /** Whether sleep/wake times could be read at all (so lastWakeMs 0 means "none since boot"). */
  sleepHistoryKnown: boolean;
  /** What is throttled ("CPU_Speed_Limit 62%"), undefined when nothing or not measured. */
  thermal?: string;
  /** Whether throttling was measured (macOS `pmset -g therm`; not measured on Linux). */
  thermalKnown: boolean;
  /** Power settings worth showing with any finding (strings, no secrets here). */
  evidence: Record<string, string>;
  /** Commands or files that could not be read: reported, never thrown. */
  failures: string[];
}

export interface PowerFactsOptions {
  runner: CommandRunner;
  platform: NodeJS.Platform;
  signal?: AbortSignal;
  /** Test seams for Linux's /proc, /sys and clocks. */
  linuxSources?: LinuxPowerSources;
  linuxTracker?: ReturnType<typeof createSuspendTracker>;
  /** A daemon's remembered `systemctl is-enabled` answer (linux-power.ts). */
  linuxSleepTargets?: SleepTargetsCache;
}

/** Reads the platform's power state; never throws for bad or missing command output. */
export async function readPowerFacts(options: PowerFactsOptions): Promise<PowerFacts> {
  if (options.platform === "darwin") return macFacts(options);
  if (options.platform === "linux") return linuxFacts(options);
  return {
    platform: options.platform, supported: false, sleepPossible: undefined, maySleep: false,
    sleepReason: `no power readings on ${options.platform}`, lastWakeMs: 0, lastSleepMs: 0, sleepHistoryKnown: false, thermalKnown: false, evidence: {}, failures: [],
  };
}

/** What the wire report carries about power. */
export function hostPowerState(facts: PowerFacts): { maySleep: boolean; lastWakeMs: number } {
  return { maySleep: facts.maySleep, lastWakeMs: facts.lastWakeMs };
}

/** logind.conf(5) IdleAction= values that put the host to sleep when idle. */
const SUSPENDING_IDLE_ACTIONS = new Set(["suspend", "hibernate", "hybrid-sleep", "suspend-then-hibernate", "sleep"]);

// lowpowermode (Monterey, Ventura) is printed as powermode on newer releases (0 automatic, 1 low, 2 high).
const MAC_EVIDENCE_KEYS = ["sleep", "disksleep", "displaysleep", "powernap", "standby", "womp", "autorestart", "tcpkeepalive", "networkoversleep", "lowpowermode", "powermode"];

async function macFacts(options: PowerFactsOptions): Promise<PowerFacts> {
  const readings = await readMacPower(options.runner, options.signal);
  const evidence: Record<string, string> = {};
  const settings = readings.settings?.recognised ? readings.settings : undefined;
  for (const key of MAC_EVIDENCE_KEYS) {
    const value = settings?.settings[key];
    if (value !== undefined) evidence[key] = value;
  }
  if (settings?.sleepDisabled !== undefined) evidence.SleepDisabled = settings.sleepDisabled ? "1" : "0";
  if (settings && settings.sleepPreventedBy.length > 0) evidence.sleepPreventedBy = settings.sleepPreventedBy.join(", ");

  // The rule: a Mac may sleep when its system sleep timer is not 0, sleep is
  // not disabled outright (pmset disablesleep 1), and no deliberate
  // keep-awake (a caffeinate holding a system-sleep assertion with no
  // timeout) holds it off. Any other process holding a KEEP_AWAKE_ASSERTIONS
  // type keeps it awake right now, for as long as it holds on (an Electron
  // app's NoIdleSleepAssertion, for days), and is named as the reason; the
  // sleep timer fires the moment it lets go, so sleep stays possible.
  // macOS's own short holds listed in "(sleep prevented by …)" release by
  // themselves (display off, audio stopped, Handoff done).
  const sleepMinutes = settings ? settingNumber(settings, "sleep") : undefined;
  const keepAwake = readings.assertions ? deliberateKeepAwake(readings.assertions) : [];
  const holders = readings.assertions ? keepAwakeHolders(readings.assertions) : [];
  if (keepAwake.length > 0) evidence.keptAwakeBy = keepAwake.map((a) => `${a.process} (pid ${a.pid}, ${a.type})`).join(", ");
  if (holders.length > 0) evidence.sleepHeldOffBy = holders.map(describeHolder).join("; ");
  const deliberate = holders.filter((h) => h.deliberate);
  const apps = holders.filter((h) => !h.deliberate && !h.incidental);
  let sleepPossible: boolean | undefined = false;
  let sleepReason: string;
  if (settings?.sleepDisabled) sleepReason = "sleep is disabled system-wide (SleepDisabled 1)";
  else if (sleepMinutes === 0) sleepReason = "system sleep is off (sleep 0)";
  else if (sleepMinutes === undefined) {
    sleepPossible = undefined;
    sleepReason = "the system sleep setting could not be read from `pmset -g`";
  } else if (deliberate.length > 0) {
    sleepReason = `system sleep is set to ${sleepMinutes} min but ${deliberate.map(caffeinateHold).join(", and ")}`;
  } else {
    sleepPossible = true;
    const appNames = new Set(apps.map((h) => h.process));
    const incidentalNames = settings!.sleepPreventedBy.filter((name) => !appNames.has(name));
    const incidental = incidentalNames.length > 0 ? ` (held off only for now by ${incidentalNames.join(", ")}, which release on their own)` : "";
    const held = apps.length > 0 ? `; it is kept awake right now by ${apps.map(describeHolder).join(", ")} and will sleep when ${apps.length === 1 ? "that process lets" : "they let"} go` : "";
    sleepReason = `system sleep is set to ${sleepMinutes} min${incidental}${held}`;
  }

  const sw = readings.sleepWake;
  if (sw?.wakeReason) evidence.wakeReason = sw.wakeReason;
  return {
    platform: "darwin", supported: true, sleepPossible, maySleep: sleepPossible === true, sleepReason,
    lastWakeMs: sw?.wokeAtMs ?? 0,
    lastSleepMs: sw?.sleptAtMs ?? 0,
    wakeReason: sw?.wakeReason,
    sleepHistoryKnown: sw !== undefined,
    thermal: readings.therm ? thermalPressure(readings.therm) : undefined,
    thermalKnown: readings.therm?.recognised === true,
    evidence,
    failures: readings.failures,
  };
}

async function linuxFacts(options: PowerFactsOptions): Promise<PowerFacts> {
  const readings = await readLinuxPower(options.runner, { signal: options.signal, sources: options.linuxSources, tracker: options.linuxTracker, sleepTargets: options.linuxSleepTargets });
  const { capability, clock, resumed, idleAction } = readings;
  const evidence: Record<string, string> = {};
  if (capability.kernelStates) evidence.kernelSleepStates = capability.kernelStates.join(" ") || "(none)";
  if (capability.targets) evidence.sleepTargets = Object.entries(capability.targets).map(([u, s]) => `${u}=${s}`).join(" ");
  const suspended = clock && clock.suspendedMs > SUSPEND_NOISE_MS;
  if (clock) evidence.suspendedSinceBoot = `${Math.round(clock.suspendedMs / 1000)}s`;
  if (idleAction) evidence.logindIdleAction = idleAction;
  const suspendsByItself = Boolean(suspended) || resumed !== undefined || SUSPENDING_IDLE_ACTIONS.has(idleAction ?? "");
  return {
    platform: "linux", supported: true,
    sleepPossible: capability.possible,
    maySleep: capability.possible === true && suspendsByItself,
    sleepReason: capability.possible === false ? `suspend is not possible: ${capability.reason}` : capability.possible ? `suspend is possible: ${capability.reason}` : capability.reason,
    lastWakeMs: resumed?.afterMs ?? 0,
    lastSleepMs: resumed ? resumed.afterMs - resumed.suspendedMs : 0,
    // Without a dated resume, "suspended since boot" is all that is known.
    sleptSinceMs: !resumed && suspended ? clock.bootedAtMs : undefined,
    suspendedSinceBootMs: clock?.suspendedMs,
    sleepHistoryKnown: clock !== undefined,
    thermalKnown: false,
    evidence,
    failures: readings.failures,
  };
}

/** What ends a deliberate caffeinate: its own process, or with -w the process it waits for. */
function caffeinateHold(h: AwakeHolder): string {
  if (h.onBehalfOfPid !== undefined) return `caffeinate (pid ${h.pid}) holds it off on behalf of process ${h.onBehalfOfPid}; that ends when process ${h.onBehalfOfPid} exits`;
  return `caffeinate (pid ${h.pid}) holds it off; that ends with the process (logout, reboot)`;
}
