// The power check on macOS, through the same runner and check machinery the
// agent uses, replaying recorded pmset/sysctl output (test/fixtures/macos).
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { powerCheck, RECENT_SLEEP_MS } from "../../agent/checks/power.ts";
import { runChecks } from "../../agent/checks/run-checks.ts";
import { discoverOpenClaw } from "../../agent/discovery/openclaw-world.ts";
import { replayRunner, type Recording } from "../../agent/platform/command-runner.ts";
import { hostPowerState, readPowerFacts } from "../../agent/platform/power-facts.ts";
import { hostFacts } from "../../agent/report/host-facts.ts";
import { KEEP_AWAKE_ASSERTIONS, parsePmsetAssertions, parsePmsetSettings, parsePmsetTherm, parseSleepWakeSysctl } from "../../agent/platform/pmset.ts";
import type { Finding } from "../../shared/finding.ts";
import { localFingerprint } from "../../shared/fingerprint.ts";
import { loadFixture, recordings } from "../fixtures/macos/recording.ts";

const fixture = (name: string) => loadFixture(join(import.meta.dirname, "../fixtures/macos", name));

/** A Mac's four power commands; each argument names the fixture to replay (or a recording). */
function mac(parts: { settings: string; assertions?: string; therm?: string; sleepwake?: string }, extra: Record<string, Recording> = {}) {
  return {
    ...recordings(
      fixture(parts.settings),
      fixture(parts.assertions ?? "pmset-g-assertions-incidental.txt"),
      fixture(parts.therm ?? "pmset-g-therm-nominal.txt"),
      fixture(parts.sleepwake ?? "sysctl-sleepwake-never.txt"),
    ),
    ...extra,
  };
}

async function check(table: Record<string, Recording>, calls: string[] = []): Promise<Finding[]> {
  const run = await runChecks([powerCheck], {
    world: discoverOpenClaw({ HOME: "/nonexistent-clawfleet-home" }),
    fingerprint: localFingerprint,
    runner: replayRunner(table, calls),
    platform: "darwin",
  });
  return run.findings;
}

const codes = (findings: Finding[]) => findings.map((f) => `${f.status}:${f.code}`);

describe("power check on macOS", () => {
  afterEach(() => vi.useRealTimers());

  it("a Mac mini with sleep 0 passes, with its settings as evidence", async () => {
    const calls: string[] = [];
    const findings = await check(mac({ settings: "pmset-g-mac-mini-server.txt" }), calls);
    expect(codes(findings)).toEqual(["ok:"]);
    expect(findings[0]!.summary).toBe("System sleep is off (sleep 0); no sleep since boot; not throttled.");
    expect(findings[0]!.evidence).toMatchObject({ sleep: "0", powernap: "0", autorestart: "1", womp: "1" });
    // Only one-shot commands: never the streaming pmset modes or the huge log.
    expect(calls.sort()).toEqual(["pmset -g", "pmset -g assertions", "pmset -g therm", "sysctl kern.sleeptime kern.waketime kern.wakereason kern.boottime"]);
    expect(calls.join(" ")).not.toMatch(/thermlog|pslog|assertionslog|pmset -g log/);
  });

  it("sleep 1 held off only by sharingd and coreaudiod is sleep_enabled: those assertions end on their own", async () => {
    const findings = await check(mac({ settings: "pmset-g-sleep-enabled.txt" }));
    expect(codes(findings)).toEqual(["warn:sleep_enabled"]);
    expect(findings[0]!.summary).toContain("system sleep is set to 1 min (held off only for now by sharingd, coreaudiod");
    expect(findings[0]!.evidence).toMatchObject({ sleep: "1", sleepPreventedBy: "sharingd, coreaudiod", powernap: "1" });
    expect(findings[0]!.action).toContain("sudo pmset -a sleep 0");
  });

  it("SleepDisabled 1 in the header wins over a non-zero sleep timer", async () => {
    const findings = await check(mac({ settings: "pmset-g-sleepdisabled-header.txt" }));
    expect(codes(findings)).toEqual(["ok:"]);
    expect(findings[0]!.summary).toBe("Sleep is disabled system-wide (SleepDisabled 1); no sleep since boot; not throttled.");
    expect(findings[0]!.evidence.SleepDisabled).toBe("1");
  });

  it("an untimed caffeinate holding PreventUserIdleSystemSleep keeps the Mac awake, and is named as the only thing doing so", async () => {
    const findings = await check(mac({ settings: "pmset-g-caffeinated.txt", assertions: "pmset-g-assertions-caffeinate.txt" }));
    expect(codes(findings)).toEqual(["ok:"]);
    expect(findings[0]!.summary).toContain("caffeinate (pid 412) holds it off");
    expect(findings[0]!.evidence.keptAwakeBy).toBe("caffeinate (pid 412, PreventUserIdleSystemSleep), caffeinate (pid 412, PreventSystemSleep)");
  });

  it("a caffeinate with a timeout does not count: it releases itself", async () => {
    const findings = await check(mac({ settings: "pmset-g-caffeinated.txt", assertions: "pmset-g-assertions-timed-caffeinate.txt" }));
    expect(codes(findings)).toEqual(["warn:sleep_enabled"]);
  });

  // The gap real captures showed: only caffeinate counted. An app holding a
  // keep-awake assertion with no timeout keeps the Mac awake just as well, and
  // is the reason it does not sleep right now; the sleep timer still fires the
  // moment it lets go, so sleep_enabled stands and names it.
  it("an app holding NoIdleSleepAssertion indefinitely is named as what keeps the Mac awake, and sleep_enabled says it sleeps when that process lets go", async () => {
    const findings = await check(mac({ settings: "pmset-g-sleep-enabled.txt", assertions: "pmset-g-assertions-electron-app.txt" }));
    expect(codes(findings)).toEqual(["warn:sleep_enabled"]);
    expect(findings[0]!.summary).toContain('it is kept awake right now by YouTube Music for Desktop (pid 23497, NoIdleSleepAssertion "Electron", held 3 h 15 min) and will sleep when that process lets go');
    expect(findings[0]!.evidence).toMatchObject({
      sleepHeldOffBy: 'YouTube Music for Desktop (pid 23497, NoIdleSleepAssertion "Electron", held 3 h 15 min); bluetoothd (pid 153, PreventUserIdleSystemSleep "com.apple.BTStack", held 11 s)',
      maySleep: "true",
    });
    // bluetoothd's hold is incidental: named in the evidence, not as the reason.
    expect(findings[0]!.summary).not.toMatch(/by bluetoothd \(pid/);
  });

  it("an app that has held PreventUserIdleSystemSleep for 56 h is the reason, with how long it has held it", async () => {
    const findings = await check(mac({ settings: "pmset-g-sleep-enabled.txt", assertions: "pmset-g-assertions-app-held-56h.txt" }));
    expect(codes(findings)).toEqual(["warn:sleep_enabled"]);
    expect(findings[0]!.summary).toContain('kept awake right now by applet (pid 425, PreventUserIdleSystemSleep "executing event", held 56 h 10 min) and will sleep when that process lets go');
  });

  it("a caffeinate -w (\"on behalf of Process ID N\") keeps the Mac awake until that process exits; an app's hold beside it is evidence", async () => {
    const findings = await check(mac({ settings: "pmset-g-sleep-1-prevented-by-app.txt", assertions: "pmset-g-assertions-caffeinate-w-and-app.txt" }));
    expect(codes(findings)).toEqual(["ok:"]);
    expect(findings[0]!.summary).toContain("caffeinate (pid 7591) holds it off on behalf of process 7584; that ends when process 7584 exits");
    expect(findings[0]!.evidence).toMatchObject({
      keptAwakeBy: "caffeinate (pid 7591, PreventUserIdleSystemSleep), caffeinate (pid 7591, PreventSystemSleep)",
      sleepHeldOffBy: 'caffeinate (pid 7591, PreventUserIdleSystemSleep+PreventSystemSleep "caffeinate command-line tool", held 124 h 49 min, for process 7584); Claude (pid 70095, NoIdleSleepAssertion "Electron", held 59 h 22 min)',
      sleepPreventedBy: "Claude, caffeinate, caffeinate, caffeinate, caffeinate, caffeinate",
      maySleep: "false",
    });
  });

  it("a wake within 24 h is slept_recently with when it slept, woke and why", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.UTC(2026, 2, 14, 9, 0, 0));
    const findings = await check(mac({ settings: "pmset-g-mac-mini-server.txt", sleepwake: "sysctl-sleepwake-recent.txt" }));
    expect(codes(findings)).toEqual(["warn:slept_recently"]);
    expect(findings[0]!.evidence).toMatchObject({ sleptAt: "2026-03-14T01:02:03.500Z", wokeAt: "2026-03-14T07:30:00.250Z", wakeReason: "RTC (Alarm)" });
    expect(findings[0]!.summary).toContain("slept for 6.5 h");
    expect(findings[0]!.action).toContain("The host slept at 2026-03-14T01:02:03.500Z");
  });

  it("the same wake more than 24 h ago is history, not a finding", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.UTC(2026, 2, 14, 7, 30, 0) + RECENT_SLEEP_MS + 60_000);
    const findings = await check(mac({ settings: "pmset-g-mac-mini-server.txt", sleepwake: "sysctl-sleepwake-recent.txt" }));
    expect(codes(findings)).toEqual(["ok:"]);
    expect(findings[0]!.summary).toContain("last wake 2026-03-14T07:30:00.250Z");
  });

  it("a recorded thermal warning and a CPU speed limit under 100 are thermal_pressure", async () => {
    const findings = await check(mac({ settings: "pmset-g-mac-mini-server.txt", therm: "pmset-g-therm-throttled.txt" }));
    expect(codes(findings)).toEqual(["warn:thermal_pressure"]);
    expect(findings[0]!.evidence.thermal).toBe("thermal warning level 5, CPU_Speed_Limit 62%, CPU_Scheduler_Limit 80%");
    expect(findings[0]!.action).toContain("`pmset -g therm` reports thermal warning level 5");
  });

  it("Apple Silicon's notes-only therm output is not throttled", async () => {
    expect(codes(await check(mac({ settings: "pmset-g-mac-mini-server.txt", therm: "pmset-g-therm-apple-silicon.txt" })))).toEqual(["ok:"]);
  });

  it("several problems at once are each reported", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.UTC(2026, 2, 14, 9, 0, 0));
    const findings = await check(mac({ settings: "pmset-g-sleep-enabled.txt", therm: "pmset-g-therm-throttled.txt", sleepwake: "sysctl-sleepwake-recent.txt" }));
    expect(codes(findings)).toEqual(["warn:sleep_enabled", "warn:slept_recently", "warn:thermal_pressure"]);
  });

  it("without pmset at all the check is skipped with the reason, not a crash", async () => {
    const findings = await check({});
    expect(codes(findings)).toEqual(["skip:"]);
    expect(findings[0]!.summary).toContain("`pmset -g` not available");
  });

  it("garbage from pmset -g leaves sleep unknown but still reports what could be read", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.UTC(2026, 2, 14, 9, 0, 0));
    const findings = await check(mac({ settings: "pmset-g-mac-mini-server.txt", sleepwake: "sysctl-sleepwake-recent.txt" }, { "pmset -g": { stdout: "\u0007 unexpected\n" } }));
    expect(codes(findings)).toEqual(["warn:slept_recently"]);
    expect(findings[0]!.evidence.unreadable).toBe('`pmset -g` printed no "Currently in use:" section');
  });

  it("a pmset that fails and prints nothing is named in the evidence", async () => {
    const findings = await check(mac({ settings: "pmset-g-mac-mini-server.txt" }, { "pmset -g therm": { exitCode: 1, stderr: "pmset: IOPMCopyCPUPowerStatus failed\n" } }));
    expect(codes(findings)).toEqual(["ok:"]);
    expect(findings[0]!.evidence.unreadable).toBe("`pmset -g therm` exited 1: pmset: IOPMCopyCPUPowerStatus failed");
  });

  it("no finding carries a secret: power evidence holds settings only", async () => {
    const secret = "test-gateway-token-never-in-power";
    const findings = await check(mac({ settings: "pmset-g-sleep-enabled.txt" }));
    for (const f of findings) expect(JSON.stringify([f.summary, f.action, f.evidence])).not.toContain(secret);
    expect(Object.keys(findings[0]!.evidence).every((k) => !/token|key|secret/i.test(k))).toBe(true);
  });
});

describe("power facts for the wire report (macOS)", () => {
  afterEach(() => vi.useRealTimers());
  it("a Mac that may sleep says so, with its last wake", async () => {
    const facts = await readPowerFacts({ runner: replayRunner(mac({ settings: "pmset-g-sleep-enabled.txt", sleepwake: "sysctl-sleepwake-recent.txt" })), platform: "darwin" });
    expect(hostPowerState(facts)).toEqual({ maySleep: true, lastWakeMs: Date.UTC(2026, 2, 14, 7, 30, 0, 250) });
    expect(facts.lastSleepMs).toBe(Date.UTC(2026, 2, 14, 1, 2, 3, 500));
  });

  it("a Mac mini with sleep 0 may not sleep; no wake since boot is 0", async () => {
    const facts = await readPowerFacts({ runner: replayRunner(mac({ settings: "pmset-g-mac-mini-server.txt" })), platform: "darwin" });
    expect(hostPowerState(facts)).toEqual({ maySleep: false, lastWakeMs: 0 });
  });

  it("every power finding carries maySleep/lastWakeMs/lastSleepMs, which the report loop reads from the run", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.UTC(2026, 2, 14, 9, 0, 0));
    const run = await runChecks([powerCheck], {
      world: discoverOpenClaw({ HOME: "/nonexistent-clawfleet-home" }),
      fingerprint: localFingerprint,
      runner: replayRunner(mac({ settings: "pmset-g-sleep-enabled.txt", sleepwake: "sysctl-sleepwake-recent.txt" })),
      platform: "darwin",
    });
    expect(run.findings.length).toBeGreaterThan(1);
    for (const f of run.findings) expect(f.evidence).toMatchObject({ maySleep: "true", lastWakeMs: String(Date.UTC(2026, 2, 14, 7, 30, 0, 250)), lastSleepMs: String(Date.UTC(2026, 2, 14, 1, 2, 3, 500)) });
    expect(hostFacts(run)).toMatchObject({ maySleep: true, lastWakeMs: Date.UTC(2026, 2, 14, 7, 30, 0, 250), lastSleepMs: Date.UTC(2026, 2, 14, 1, 2, 3, 500) });
  });

  it("is computed once per run and shared (ctx.once)", async () => {
    const calls: string[] = [];
    await runChecks([powerCheck, { ...powerCheck, name: "power-again" }], {
      world: discoverOpenClaw({ HOME: "/nonexistent-clawfleet-home" }),
      fingerprint: localFingerprint,
      runner: replayRunner(mac({ settings: "pmset-g-mac-mini-server.txt" }), calls),
      platform: "darwin",
    });
    expect(calls.filter((c) => c === "pmset -g")).toHaveLength(1);
  });
});

describe("pmset and sysctl parsing traps", () => {
  it("`Sleep On Power Button 1` is its own key, not the sleep timer", () => {
    const parsed = parsePmsetSettings(fixture("pmset-g-sleep-enabled.txt").stdout!);
    expect(parsed.settings["Sleep On Power Button"]).toBe("1");
    expect(parsed.settings.sleep).toBe("1");
    expect(parsed.settings.hibernatefile).toBe("/var/vm/sleepimage");
  });

  it("process names with parentheses in the prevented-by note and in assertion holders", () => {
    const settings = parsePmsetSettings("Currently in use:\n sleep                20 (sleep prevented by Google Chrome Helper (GPU), powerd)\n displaysleep         10 (display sleep prevented by Safari)\n");
    expect(settings.settings).toEqual({ sleep: "20", displaysleep: "10" });
    expect(settings.sleepPreventedBy).toEqual(["Google Chrome Helper (GPU)", "powerd"]);
    const assertions = parsePmsetAssertions('Listed by owning process:\n   pid 5120(Google Chrome Helper (GPU)): [0x0001a35a0001959e] 00:10:00 PreventUserIdleDisplaySleep named: "WebRTC has active PeerConnections"\n   pid 1827: [0x000000bb012c01f1] PreventUserIdleSystemSleep named: "old format"\n');
    expect(assertions.holders.map((h) => [h.pid, h.process, h.type, h.ageSeconds])).toEqual([
      [5120, "Google Chrome Helper (GPU)", "PreventUserIdleDisplaySleep", 600],
      [1827, "", "PreventUserIdleSystemSleep", undefined],
    ]);
  });

  it("reads the system-wide table, ages over 24 h, timeouts and details", () => {
    const parsed = parsePmsetAssertions(fixture("pmset-g-assertions-caffeinate.txt").stdout!);
    expect(parsed.systemWide).toMatchObject({ PreventSystemSleep: 1, PreventUserIdleSystemSleep: 1, UserIsActive: 0 });
    expect(parsed.holders[0]).toMatchObject({ pid: 412, process: "caffeinate", ageSeconds: 71 * 3600 + 16 * 60 + 41, details: "caffeinate asserting forever" });
    expect(parsed.holders[0]!.timeoutSeconds).toBeUndefined();
    expect(parsed.holders.at(-1)).toMatchObject({ process: "powerd", timeoutSeconds: 258 });
  });

  it("current wording: ages over 99 h, \"on behalf of Process ID N\", Created for PID, MAGICWAKE kernel assertions", () => {
    const parsed = parsePmsetAssertions(fixture("pmset-g-assertions-caffeinate-w-and-app.txt").stdout!);
    expect(parsed.holders.map((h) => [h.pid, h.process, h.type, h.ageSeconds, h.onBehalfOfPid])).toEqual([
      [70095, "Claude", "NoIdleSleepAssertion", 59 * 3600 + 22 * 60 + 42, undefined],
      [7591, "caffeinate", "PreventUserIdleSystemSleep", 124 * 3600 + 49 * 60 + 32, 7584],
      [7591, "caffeinate", "PreventSystemSleep", 124 * 3600 + 49 * 60 + 32, undefined],
      [578, "dasd", "BackgroundTask", 12 * 3600, undefined],
    ]);
    // "Created for PID: 341." (assertions taken on behalf of another process) and caffeinate's older "'sh' (pid 365)".
    expect(parsePmsetAssertions(fixture("pmset-g-assertions-incidental.txt").stdout!).holders.at(-1)).toMatchObject({ process: "UserEventAgent", onBehalfOfPid: 341 });
    expect(parsePmsetAssertions(fixture("pmset-g-assertions-timed-caffeinate.txt").stdout!).holders[0]).toMatchObject({ onBehalfOfPid: 365, timeoutSeconds: 60198 });
    expect(parsePmsetAssertions(fixture("pmset-g-assertions-electron-app.txt").stdout!).holders.map((h) => h.process)).toEqual(["bluetoothd", "bluetoothd", "YouTube Music for Desktop", "WindowServer"]);
  });

  it("the assertions that keep a Mac awake are one table", () => {
    expect(Object.keys(KEEP_AWAKE_ASSERTIONS).sort()).toEqual(["NoIdleSleepAssertion", "PreventSystemSleep", "PreventUserIdleSystemSleep"]);
  });

  it("current pmset -g keys: lowpowermode, bundle ids holding sleep off, a display-sleep note, the tab-separated SleepDisabled header", async () => {
    const parsed = parsePmsetSettings(fixture("pmset-g-lowpowermode-apple-silicon.txt").stdout!);
    expect(parsed.sleepDisabled).toBe(true);
    expect(parsed.settings).toMatchObject({ lowpowermode: "0", sleep: "1", displaysleep: "10", "Sleep On Power Button": "1", womp: "1" });
    expect(parsed.sleepPreventedBy).toEqual(["bluetoothd", "com.bombich.ccchelper", "com.bombich.ccchelper", "powerd", "sharingd", "com.apphousekitchen.aldente-pro"]);
    const findings = await check(mac({ settings: "pmset-g-lowpowermode-apple-silicon.txt" }));
    expect(codes(findings)).toEqual(["ok:"]);
    expect(findings[0]!.evidence).toMatchObject({ lowpowermode: "0", SleepDisabled: "1", sleep: "1" });
  });

  it("therm: warning levels and CPU limits with pmset's tab-space-equals layout", () => {
    expect(parsePmsetTherm(fixture("pmset-g-therm-nominal.txt").stdout!)).toEqual({ thermalWarningLevel: undefined, performanceWarningLevel: undefined, cpu: { CPU_Scheduler_Limit: 100, CPU_Available_CPUs: 12, CPU_Speed_Limit: 100 }, recognised: true });
    expect(parsePmsetTherm("garbage").recognised).toBe(false);
  });

  it("sysctl: zero times mean never since boot; an empty wake reason is no reason", () => {
    expect(parseSleepWakeSysctl(fixture("sysctl-sleepwake-never.txt").stdout!)).toEqual({ bootedAtMs: Date.UTC(2026, 2, 10, 8, 0, 0, 12) });
    // sysctl still prints the known oids when one is unknown (older macOS without kern.wakereason).
    expect(parseSleepWakeSysctl("kern.sleeptime: { sec = 100, usec = 5000 } Thu Jan  1 00:01:40 1970\nsysctl: unknown oid 'kern.wakereason'\n")).toEqual({ sleptAtMs: 100_005 });
  });
});
