// macOS power parsers (`pmset -g`, `pmset -g assertions`, `pmset -g therm`,
// `sysctl kern.sleeptime …`) on random text, mutated recordings and ~1 MB
// inputs: they never throw, stay linear, and keep their documented shapes;
// the whole power reading through the production runner never throws either.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { replayRunner } from "../../agent/platform/command-runner.ts";
import { deliberateKeepAwake, describeHolder, keepAwakeHolders, parsePmsetAssertions, parsePmsetSettings, parsePmsetTherm, parseSleepWakeSysctl, settingNumber, SLEEP_WAKE_OIDS, thermalPressure } from "../../agent/platform/pmset.ts";
import { readPowerFacts } from "../../agent/platform/power-facts.ts";
import { expectWithinBudget, fixture, hugeFrom, hugeShapes, inputsFor, parsesOrFailsCleanly } from "./arbitraries.ts";

const settingsFixtures = ["pmset-g-sleep-enabled.txt", "pmset-g-caffeinated.txt", "pmset-g-mac-mini-server.txt", "pmset-g-sleepdisabled-header.txt", "pmset-g-sleep-1-prevented-by-app.txt", "pmset-g-lowpowermode-apple-silicon.txt"].map((f) => fixture(`macos/${f}`));
const assertionFixtures = ["pmset-g-assertions-caffeinate.txt", "pmset-g-assertions-timed-caffeinate.txt", "pmset-g-assertions-incidental.txt", "pmset-g-assertions-electron-app.txt", "pmset-g-assertions-app-held-56h.txt", "pmset-g-assertions-caffeinate-w-and-app.txt"].map((f) => fixture(`macos/${f}`));
const thermFixtures = ["pmset-g-therm-nominal.txt", "pmset-g-therm-throttled.txt", "pmset-g-therm-apple-silicon.txt"].map((f) => fixture(`macos/${f}`));
const sysctlFixtures = ["sysctl-sleepwake-recent.txt", "sysctl-sleepwake-never.txt"].map((f) => fixture(`macos/${f}`));

const SETTINGS_WORDS = ["System-wide power settings:\n", "Currently in use:\n", " sleep", " SleepDisabled", "\t\t", "  ", "1", "0", " (sleep prevented by ", "a, b", ")", " (display sleep prevented by ", " (Graphics dim captured)", "\n", "Sleep On Power Button "];
const ASSERTION_WORDS = ["Assertion status system-wide:\n", "Listed by owning process:\n", "   pid ", "412", "(caffeinate)", ": [0x0000002d000180ba] ", "71:16:41 ", "PreventUserIdleSystemSleep", " named: \"", "\"", "\n", "\tDetails: ", "\tTimeout will fire in ", " secs", "Kernel Assertions:\n", "   ", "1"];
const THERM_WORDS = ["Note: No thermal warning level has been recorded\n", "2026-03-14 09:12:44 +0100 ", "Thermal Warning Level", "Performance Warning Level", " = ", "CPU Power notify\n", "\tCPU_Speed_Limit", "\tCPU_Scheduler_Limit", "\t= ", "62", "\n"];
const SYSCTL_WORDS = ["kern.sleeptime: ", "kern.waketime: ", "kern.boottime: ", "kern.wakereason: ", "{ sec = ", "1421576213", ", usec = ", "39481", " }", " Sun Jan 18 11:16:53 2015", "\n", "0"];

function checkSettings(text: string): void {
  const parsed = parsesOrFailsCleanly(text, () => parsePmsetSettings(text))!;
  for (const [key, value] of Object.entries(parsed.settings)) {
    expect(key).toBe(key.trim());
    expect(value).toMatch(/^\S+$/);
  }
  const sleep = settingNumber(parsed, "sleep");
  if (sleep !== undefined) expect(Number.isFinite(sleep) || Math.abs(sleep) === Infinity).toBe(true);
}

function checkAssertions(text: string): void {
  const parsed = parsesOrFailsCleanly(text, () => parsePmsetAssertions(text))!;
  for (const holder of parsed.holders) expect(typeof holder.type).toBe("string");
  parsesOrFailsCleanly(text, () => deliberateKeepAwake(parsed));
  parsesOrFailsCleanly(text, () => keepAwakeHolders(parsed).map(describeHolder));
}

function checkTherm(text: string): void {
  const parsed = parsesOrFailsCleanly(text, () => parsePmsetTherm(text))!;
  parsesOrFailsCleanly(text, () => thermalPressure(parsed));
}

function checkSysctl(text: string): void {
  const parsed = parsesOrFailsCleanly(text, () => parseSleepWakeSysctl(text))!;
  // Times go into the report as int64 milliseconds: only real instants pass.
  for (const ms of [parsed.sleptAtMs, parsed.wokeAtMs, parsed.bootedAtMs]) if (ms !== undefined) expect(Number.isSafeInteger(ms) && ms > 0).toBe(true);
}

describe("pmset and sysctl parsers never throw and keep their shapes", () => {
  it("`pmset -g`", () => fc.assert(fc.property(inputsFor(SETTINGS_WORDS, ...settingsFixtures), (text) => checkSettings(text)), { numRuns: 300 }));
  it("`pmset -g assertions`", () => fc.assert(fc.property(inputsFor(ASSERTION_WORDS, ...assertionFixtures), (text) => checkAssertions(text)), { numRuns: 300 }));
  it("`pmset -g therm`", () => fc.assert(fc.property(inputsFor(THERM_WORDS, ...thermFixtures), (text) => checkTherm(text)), { numRuns: 300 }));
  it("`sysctl kern.sleeptime kern.waketime …`", () => fc.assert(fc.property(inputsFor(SYSCTL_WORDS, ...sysctlFixtures), (text) => checkSysctl(text)), { numRuns: 300 }));

  it("the `pmset -g` name/value split is the one the old /^(.+?)\\s+(\\S+)$/ made, on inputs small enough for that regex", () => {
    const oracle = (body: string) => {
      const m = /^(.+?)\s+(\S+)$/.exec(body);
      return m ? { [m[1]!]: m[2]! } : {};
    };
    fc.assert(
      fc.property(fc.array(fc.constantFrom("a", "b", " ", "\t", "\u00A0", "1", "(", ")", "x y"), { maxLength: 20 }).map((p) => p.join("")), (line) => {
        const body = line.trim();
        expect(parsePmsetSettings(`Currently in use:\n ${body}\n`).settings).toEqual(body ? oracle(body) : {});
      }),
      { numRuns: 300 },
    );
  });
});

describe("pmset and sysctl parsers stay linear on ~1 MB inputs", () => {
  const parsers: [string, (t: string) => unknown, string[], string[]][] = [
    ["parsePmsetSettings", parsePmsetSettings, SETTINGS_WORDS, settingsFixtures],
    ["parsePmsetAssertions", parsePmsetAssertions, ASSERTION_WORDS, assertionFixtures],
    ["parsePmsetTherm", parsePmsetTherm, THERM_WORDS, thermFixtures],
    ["parseSleepWakeSysctl", parseSleepWakeSysctl, SYSCTL_WORDS, sysctlFixtures],
  ];
  for (const [name, parse, words, fixtures] of parsers) {
    it(`${name}: classic shapes`, () => {
      for (const huge of hugeShapes(...fixtures)) expectWithinBudget(name, huge, parse);
    });
    it(`${name}: its vocabulary repeated`, () => fc.assert(fc.property(hugeFrom(words, ...fixtures), (huge) => void expectWithinBudget(name, huge, parse)), { numRuns: 6, endOnFailure: true }));
  }
});

describe("the whole macOS power reading, through the production command runner", () => {
  it("never throws on mutated recordings and reports what it could not read", async () => {
    await fc.assert(
      fc.asyncProperty(inputsFor(SETTINGS_WORDS, ...settingsFixtures), inputsFor(ASSERTION_WORDS, ...assertionFixtures), inputsFor(THERM_WORDS, ...thermFixtures), inputsFor(SYSCTL_WORDS, ...sysctlFixtures), fc.constantFrom(0, 1, 124), async (g, assertions, therm, sysctl, exitCode) => {
        const runner = replayRunner({
          "pmset -g": { stdout: g, stderr: "", exitCode },
          "pmset -g assertions": { stdout: assertions, stderr: "", exitCode: 0 },
          "pmset -g therm": { stdout: therm, stderr: "", exitCode: 0 },
          [`sysctl ${SLEEP_WAKE_OIDS.join(" ")}`]: { stdout: sysctl, stderr: "", exitCode: 0 },
        });
        const facts = await readPowerFacts({ runner, platform: "darwin" });
        expect(Number.isSafeInteger(facts.lastWakeMs)).toBe(true);
        expect(Number.isSafeInteger(facts.lastSleepMs)).toBe(true);
        for (const failure of facts.failures) expect(failure).toMatch(/`(pmset|sysctl)[^`]*`/);
      }),
      { numRuns: 150 },
    );
  });
});
