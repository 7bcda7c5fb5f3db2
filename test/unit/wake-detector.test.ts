import { describe, expect, it } from "vitest";
import { hostFacts } from "../../agent/report/host-facts.ts";
import { WakeDetector, type Clock } from "../../agent/run/wake-detector.ts";
import type { CheckRun } from "../../agent/checks/run-checks.ts";

/** A clock a test moves: wall and monotonic time advance together unless the "host" sleeps. */
function testClock(start: number) {
  let wall = start;
  let mono = 1000;
  const clock: Clock = { wallMs: () => wall, monoMs: () => mono };
  return { clock, awake: (ms: number) => ((wall += ms), (mono += ms)), asleep: (ms: number) => (wall += ms) };
}

describe("wake detection from the two clocks", () => {
  it("sees no sleep while both clocks advance together, even over a long tick", () => {
    const t = testClock(1_795_600_000_000);
    const detector = new WakeDetector(t.clock);
    t.awake(30_000);
    expect(detector.peek()).toBe(false);
    expect(detector.read()).toBeUndefined();
  });

  it("dates a sleep from the wall clock running ahead of the monotonic one", () => {
    const start = 1_795_600_000_000;
    const t = testClock(start);
    const detector = new WakeDetector(t.clock);
    t.awake(10_000); // awake 10 s after the last check, then...
    t.asleep(3_600_000); // ...the lid closes for an hour
    t.awake(2_000);
    expect(detector.peek()).toBe(true);
    expect(detector.read()).toEqual({ sleptAtMs: start + 12_000, wokeAtMs: start + 3_612_000, sleptMs: 3_600_000 });
    expect(detector.read()).toBeUndefined(); // reported once
  });

  it("sends the detected sleep in the report when the platform did not report one", () => {
    const run: CheckRun = { startedAtMs: 0, durationMs: 1, verdict: "ok", primary: null, findings: [], credentials: [] };
    expect(hostFacts(run, { sleptAtMs: 5000, wokeAtMs: 9000 })).toMatchObject({ lastSleepMs: 5000, lastWakeMs: 9000, maySleep: false });
  });
});
