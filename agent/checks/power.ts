// Power layer: may this host sleep, did it sleep recently, is it throttled.
// A sleeping Mac drops its tunnel and looks like an auth failure from outside;
// these findings explain intermittent errors and tell the collector a silent
// node is asleep rather than dead.
import { passed, problem, skipped, type Finding } from "../../shared/finding.ts";
import { SUSPEND_NOISE_MS } from "../platform/linux-power.ts";
import { powerFacts } from "../observations/host-power.ts";
import type { PowerFacts } from "../platform/power-facts.ts";
import type { Check } from "./check.ts";

/** A sleep or wake this recent explains errors people are still looking at. */
export const RECENT_SLEEP_MS = 24 * 60 * 60 * 1000;

export const powerCheck: Check = {
  name: "power",
  layer: "power",
  deadlineMs: 2500,
  observes: [powerFacts],
  async run(ctx) {
    return evaluatePower(await ctx.observe(powerFacts), Date.now());
  },
};

/** The findings for a set of power facts at `nowMs` (pure, so replayed facts give stable results). */
export function evaluatePower(facts: PowerFacts, nowMs: number): Finding[] {
  // What the report loop sends the collector (agent/report/host-facts.ts reads
  // it from here, so the host is observed once): on every power finding.
  const wire = { maySleep: String(facts.maySleep), lastWakeMs: String(facts.lastWakeMs), lastSleepMs: String(facts.lastSleepMs) };
  if (!facts.supported) return [skipped("power", "power", `Power checks do not apply on ${facts.platform}.`, { platform: facts.platform, ...wire })];
  const common: Record<string, string> = facts.failures.length > 0 ? { unreadable: facts.failures.join("; "), ...wire } : { ...wire };
  const nothingKnown = facts.sleepPossible === undefined && !facts.sleepHistoryKnown && !facts.thermalKnown;
  if (nothingKnown) {
    return [skipped("power", "power", `Could not read the power state: ${facts.failures.join("; ") || facts.sleepReason}.`, { ...facts.evidence, ...common })];
  }

  const findings: Finding[] = [];
  const base = { ...facts.evidence, ...common };
  if (facts.sleepPossible === true) {
    findings.push(problem("power", "sleep_enabled", `This host may sleep: ${facts.sleepReason}. A sleeping host drops its tunnel and clients see errors that look like auth failures.`, base));
  }

  const recent = recentSleep(facts, nowMs);
  if (recent) findings.push(problem("power", "slept_recently", recent.summary, { ...base, ...recent.evidence }));

  if (facts.thermal) {
    findings.push(problem("power", "thermal_pressure", `The host is throttled (${facts.thermal}); a throttled gateway answers slowly and may miss probe deadlines.`, { ...base, thermal: facts.thermal }));
  }

  if (findings.length > 0) return findings;
  const parts = [facts.sleepPossible !== undefined ? facts.sleepReason : `sleep setting unknown (${facts.sleepReason})`, history(facts)];
  if (facts.thermalKnown) parts.push("not throttled");
  const summary = parts.filter(Boolean).join("; ");
  return [passed("power", "power", `${summary[0]!.toUpperCase()}${summary.slice(1)}.`, base)];
}

function history(facts: PowerFacts): string {
  if (facts.lastWakeMs > 0) return `last wake ${iso(facts.lastWakeMs)}`;
  if (!facts.sleepHistoryKnown) return "";
  if (facts.suspendedSinceBootMs !== undefined && facts.suspendedSinceBootMs > SUSPEND_NOISE_MS) return `suspended ${minutes(facts.suspendedSinceBootMs)} in total since boot, more than 24 h ago`;
  return "no sleep since boot";
}

function recentSleep(facts: PowerFacts, nowMs: number): { summary: string; evidence: Record<string, string> } | undefined {
  if (facts.lastWakeMs > 0 && nowMs - facts.lastWakeMs <= RECENT_SLEEP_MS) {
    const sleptAt = facts.lastSleepMs > 0 ? iso(facts.lastSleepMs) : "an unknown time";
    const wokeAt = iso(facts.lastWakeMs);
    const evidence: Record<string, string> = { sleptAt, wokeAt };
    if (facts.wakeReason) evidence.wakeReason = facts.wakeReason;
    const asleepFor = facts.lastSleepMs > 0 && facts.lastWakeMs > facts.lastSleepMs ? ` for ${minutes(facts.lastWakeMs - facts.lastSleepMs)}` : "";
    const reason = facts.wakeReason ? ` (wake reason: ${facts.wakeReason})` : "";
    return { summary: `The host slept${asleepFor}, from ${sleptAt} to ${wokeAt}${reason}: errors around then were the sleep, not the gateway.`, evidence };
  }
  if (facts.sleptSinceMs !== undefined && nowMs - facts.sleptSinceMs <= RECENT_SLEEP_MS) {
    const since = iso(facts.sleptSinceMs);
    const total = facts.suspendedSinceBootMs !== undefined ? minutes(facts.suspendedSinceBootMs) : "some time";
    const sleptAt = `some time after ${since}`;
    return {
      summary: `The host has been suspended for ${total} since it booted at ${since} (under 24 h ago): errors in that time may be the suspend, not the gateway.`,
      evidence: { sleptAt, suspendedSinceBoot: total },
    };
  }
  return undefined;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 1 ? `${Math.round(ms / 1000)} s` : m < 120 ? `${m} min` : `${(m / 60).toFixed(1)} h`;
}
