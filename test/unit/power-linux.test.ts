// The power check on Linux: suspend capability from /sys/power/state and the
// sleep targets' mask state, suspended time from CLOCK_BOOTTIME −
// CLOCK_MONOTONIC. /proc, /sys and the clocks are injected; systemctl answers
// are recorded (test/fixtures/systemd). One test runs on this host for real.
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluatePower, powerCheck } from "../../agent/checks/power.ts";
import { runChecks } from "../../agent/checks/run-checks.ts";
import { discoverOpenClaw } from "../../agent/discovery/openclaw-world.ts";
import { replayRunner, systemRunner, type Recording } from "../../agent/platform/command-runner.ts";
import { createSleepTargetsCache, createSuspendTracker, parseIsEnabled, SLEEP_TARGETS_MAX_AGE_MS, readSuspendClock, SLEEP_TARGETS, suspendCapability, type LinuxPowerSources } from "../../agent/platform/linux-power.ts";
import { hostPowerState, readPowerFacts } from "../../agent/platform/power-facts.ts";
import { localFingerprint } from "../../shared/fingerprint.ts";
import { loadFixture, recordings } from "../fixtures/macos/recording.ts";

const fixture = (name: string) => loadFixture(join(import.meta.dirname, "../fixtures/systemd", name));
const NOW = Date.UTC(2026, 2, 14, 12, 0, 0);

/** A host booted `bootedSecondsAgo` ago that spent `suspendedSeconds` of it suspended. */
function host(options: { sysPowerState?: string | Error; bootedSecondsAgo: number; suspendedSeconds: number; nowMs?: number; files?: Record<string, string> }): LinuxPowerSources {
  const nowMs = options.nowMs ?? NOW;
  const files = options.files ?? {};
  return {
    async readDir(path) {
      const names = Object.keys(files).filter((f) => f.startsWith(`${path}/`)).map((f) => f.slice(path.length + 1));
      if (names.length === 0) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
      return names;
    },
    async readFile(path) {
      if (files[path] !== undefined) return files[path]!;
      if (path === "/sys/power/state") {
        if (options.sysPowerState instanceof Error) throw options.sysPowerState;
        return options.sysPowerState ?? "freeze mem disk\n";
      }
      if (path === "/proc/uptime") return `${options.bootedSecondsAgo.toFixed(2)} 1234.56\n`;
      throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
    },
    monotonicMs: () => (options.bootedSecondsAgo - options.suspendedSeconds) * 1000,
    nowMs: () => nowMs,
  };
}

async function facts(table: Record<string, Recording>, sources: LinuxPowerSources, tracker = createSuspendTracker()) {
  return readPowerFacts({ runner: replayRunner(table), platform: "linux", linuxSources: sources, linuxTracker: tracker });
}

const codes = (findings: { status: string; code: string }[]) => findings.map((f) => `${f.status}:${f.code}`);
const staticTargets = () => recordings(fixture("systemctl-is-enabled-static.txt"));
const maskedTargets = () => recordings(fixture("systemctl-is-enabled-masked.txt"));

describe("power check on Linux", () => {
  it("a daemon asks systemctl for the sleep targets again only when a unit directory changed or the answer is old", async () => {
    const unitDir = mkdtempSync(join(tmpdir(), "clawfleet-units-"));
    try {
      const cache = createSleepTargetsCache([unitDir, join(unitDir, "absent")]);
      const calls: string[] = [];
      let table = staticTargets();
      const runner = { run: (command: string, args: readonly string[]) => replayRunner(table, calls).run(command, args) };
      const read = (nowMs: number) => readPowerFacts({ runner, platform: "linux", linuxSources: host({ bootedSecondsAgo: 90_000, suspendedSeconds: 0, nowMs }), linuxSleepTargets: cache });
      expect((await read(NOW)).sleepPossible).toBe(true);
      expect((await read(NOW + 60_000)).sleepPossible).toBe(true);
      expect(calls).toHaveLength(1);
      // `systemctl mask sleep.target` links the unit to /dev/null in a unit directory.
      table = maskedTargets();
      symlinkSync("/dev/null", join(unitDir, "sleep.target"));
      expect(await read(NOW + 120_000)).toMatchObject({ sleepPossible: false, sleepReason: "suspend is not possible: sleep.target is masked" });
      expect(calls).toHaveLength(2);
      expect((await read(NOW + 180_000)).sleepPossible).toBe(false);
      expect(calls).toHaveLength(2);
      // Nothing changed on disk, but the answer is old: asked again.
      table = staticTargets();
      expect((await read(NOW + 120_000 + SLEEP_TARGETS_MAX_AGE_MS)).sleepPossible).toBe(true);
      expect(calls).toHaveLength(3);
    } finally {
      rmSync(unitDir, { recursive: true, force: true });
    }
  });

  it("masked sleep targets: suspend is impossible, nothing to report", async () => {
    const f = await facts(maskedTargets(), host({ bootedSecondsAgo: 90_000, suspendedSeconds: 0 }));
    expect(f).toMatchObject({ sleepPossible: false, maySleep: false, sleepReason: "suspend is not possible: sleep.target is masked" });
    const findings = evaluatePower(f, NOW);
    expect(codes(findings)).toEqual(["ok:"]);
    expect(findings[0]!.evidence.sleepTargets).toBe("sleep.target=masked suspend.target=masked hibernate.target=masked hybrid-sleep.target=masked");
  });

  it("static targets and a kernel that offers mem: sleep_enabled; never suspended and no idle action, so the collector still pages for it", async () => {
    const f = await facts(staticTargets(), host({ bootedSecondsAgo: 90_000, suspendedSeconds: 0 }));
    expect(f).toMatchObject({ sleepPossible: true, maySleep: false });
    const findings = evaluatePower(f, NOW);
    expect(codes(findings)).toEqual(["warn:sleep_enabled"]);
    expect(findings[0]!.summary).toContain("suspend.target, hibernate.target, hybrid-sleep.target are not masked and the kernel offers freeze mem disk");
    expect(findings[0]!.action).toContain("sudo systemctl mask sleep.target suspend.target");
  });

  it("logind IdleAction=suspend (last drop-in wins) makes a suspendable host one that may sleep", async () => {
    const files = {
      "/etc/systemd/logind.conf": "[Login]\n#IdleAction=ignore\nIdleAction=ignore\n",
      "/etc/systemd/logind.conf.d/20-idle.conf": "[Login]\nIdleAction=suspend\nIdleActionSec=30min\n",
      "/etc/systemd/logind.conf.d/10-other.conf": "[Login]\nIdleAction=lock\n",
    };
    const f = await facts(staticTargets(), host({ bootedSecondsAgo: 90_000, suspendedSeconds: 0, files }));
    expect(f).toMatchObject({ sleepPossible: true, maySleep: true });
    expect(f.evidence.logindIdleAction).toBe("suspend");
    const masked = await facts(maskedTargets(), host({ bootedSecondsAgo: 90_000, suspendedSeconds: 0, files }));
    expect(masked.maySleep).toBe(false);
  });

  it("an empty /sys/power/state (a VM, this CI host) means the kernel cannot suspend, whatever the targets say", async () => {
    const f = await facts(staticTargets(), host({ sysPowerState: "\n", bootedSecondsAgo: 90_000, suspendedSeconds: 0 }));
    expect(f).toMatchObject({ maySleep: false, sleepReason: "suspend is not possible: the kernel offers no sleep state (/sys/power/state is empty)" });
    expect(codes(evaluatePower(f, NOW))).toEqual(["ok:"]);
  });

  it("suspended for 40 min since a boot 5 h ago is slept_recently, dated as precisely as it can be", async () => {
    const f = await facts(maskedTargets(), host({ bootedSecondsAgo: 5 * 3600, suspendedSeconds: 2400 }));
    expect(f.suspendedSinceBootMs).toBeCloseTo(2_400_000, -2);
    expect(f.sleptSinceMs).toBe(NOW - 5 * 3600 * 1000);
    expect(f.lastWakeMs).toBe(0);
    const findings = evaluatePower(f, NOW);
    expect(codes(findings)).toEqual(["warn:slept_recently"]);
    expect(findings[0]!.summary).toBe("The host has been suspended for 40 min since it booted at 2026-03-14T07:00:00.000Z (under 24 h ago): errors in that time may be the suspend, not the gateway.");
    expect(findings[0]!.evidence.sleptAt).toBe("some time after 2026-03-14T07:00:00.000Z");
  });

  it("suspended some time in a boot older than 24 h, with no earlier reading: not dated, so not reported as recent", async () => {
    const f = await facts(maskedTargets(), host({ bootedSecondsAgo: 10 * 86_400, suspendedSeconds: 600 }));
    const [finding] = evaluatePower(f, NOW);
    expect(`${finding!.status}:${finding!.code}`).toBe("ok:");
    expect(finding!.summary).toBe("Suspend is not possible: sleep.target is masked; suspended 10 min in total since boot, more than 24 h ago.");
    expect(finding!.evidence.suspendedSinceBoot).toBe("600s");
  });

  it("in the daemon, growth between two readings dates the resume: last_wake for the collector", async () => {
    const tracker = createSuspendTracker();
    const boot = 10 * 86_400;
    await facts(staticTargets(), host({ bootedSecondsAgo: boot, suspendedSeconds: 600, nowMs: NOW }), tracker);
    // 30 s later by the monotonic clock, plus a 2 h suspend in between.
    const later = NOW + 30_000 + 7_200_000;
    const f = await facts(staticTargets(), host({ bootedSecondsAgo: boot + 30 + 7200, suspendedSeconds: 600 + 7200, nowMs: later }), tracker);
    expect(f.lastWakeMs).toBe(NOW + 7_200_000);
    expect(f.lastSleepMs).toBe(NOW);
    expect(hostPowerState(f)).toEqual({ maySleep: true, lastWakeMs: NOW + 7_200_000 });
    expect(codes(evaluatePower(f, later))).toEqual(["warn:sleep_enabled", "warn:slept_recently"]);
  });

  it("clock noise below two seconds is not a suspend", async () => {
    const f = await facts(maskedTargets(), host({ bootedSecondsAgo: 3600, suspendedSeconds: 0.4 }));
    expect(f.sleptSinceMs).toBeUndefined();
    // Linux throttling is not measured, so the summary does not claim "not throttled".
    expect(evaluatePower(f, NOW)).toMatchObject([{ status: "ok", summary: "Suspend is not possible: sleep.target is masked; no sleep since boot." }]);
  });

  it("a systemctl that stops at a missing target gives no states rather than shifted ones; the kernel still decides", async () => {
    const f = await facts(recordings(fixture("systemctl-is-enabled-missing-unit.txt")), host({ bootedSecondsAgo: 3600, suspendedSeconds: 0 }));
    expect(f.failures).toEqual(["`systemctl is-enabled sleep.target suspend.target hibernate.target hybrid-sleep.target` gave no usable answer (exit 1)"]);
    expect(f.sleepReason).toBe("suspend is possible: the kernel offers freeze mem disk and systemd's sleep targets could not be checked");
    expect(evaluatePower(f, NOW)[0]!.evidence.unreadable).toContain("systemctl is-enabled");
  });

  it("nothing readable at all: skipped with the reasons", async () => {
    const broken: LinuxPowerSources = {
      readDir: async (path) => { throw Object.assign(new Error(path), { code: "EACCES" }); },
      readFile: async (path) => { throw Object.assign(new Error(path), { code: "EACCES" }); },
      monotonicMs: () => 1,
      nowMs: () => NOW,
    };
    const f = await facts({}, broken);
    const findings = evaluatePower(f, NOW);
    expect(codes(findings)).toEqual(["skip:"]);
    expect(findings[0]!.summary).toContain("cannot read /sys/power/state: EACCES");
    expect(findings[0]!.summary).toContain("cannot measure suspended time: /proc/uptime: EACCES");
  });

  it("/proc/uptime that is not a number is reported, not a NaN", async () => {
    const sources = { ...host({ bootedSecondsAgo: 1, suspendedSeconds: 0 }), readFile: async (path: string) => (path === "/proc/uptime" ? "garbage\n" : "mem\n") };
    await expect(readSuspendClock(sources)).rejects.toThrow("/proc/uptime does not start with a number");
    const f = await facts(maskedTargets(), sources);
    expect(f.failures).toEqual(["cannot measure suspended time: /proc/uptime does not start with a number"]);
  });

  it("other platforms are skipped, not failed", async () => {
    const f = await readPowerFacts({ runner: replayRunner({}), platform: "win32" });
    expect(codes(evaluatePower(f, NOW))).toEqual(["skip:"]);
    expect(hostPowerState(f)).toEqual({ maySleep: false, lastWakeMs: 0 });
  });

  it("on this host, the real check runs to a finding without throwing", async () => {
    const run = await runChecks([powerCheck], { world: discoverOpenClaw({ HOME: "/nonexistent-clawfleet-home" }), fingerprint: localFingerprint, runner: systemRunner, platform: "linux" });
    expect(run.findings.length).toBeGreaterThan(0);
    // Never check_error/check_timeout (layer agent): every finding is the power layer's own.
    expect(run.findings.every((f) => f.check === "power" && f.layer === "power")).toBe(true);
  });
});

describe("Linux suspend capability pieces", () => {
  it("is-enabled lines map to units only when every unit answered", () => {
    expect(parseIsEnabled("static\nmasked\nstatic\nstatic\n", SLEEP_TARGETS)).toEqual({ "sleep.target": "static", "suspend.target": "masked", "hibernate.target": "static", "hybrid-sleep.target": "static" });
    expect(parseIsEnabled("static\n", SLEEP_TARGETS)).toBeUndefined();
  });

  it("suspend masked alone still leaves hibernate", () => {
    const cap = suspendCapability(["mem", "disk"], { "sleep.target": "static", "suspend.target": "masked", "hibernate.target": "static", "hybrid-sleep.target": "masked" });
    expect(cap).toMatchObject({ possible: true, reason: "hibernate.target is not masked and the kernel offers mem disk" });
    expect(suspendCapability(undefined, undefined).possible).toBeUndefined();
  });
});
