// A node that stops talking is asleep or unreachable. The first label comes
// from what its last reports said (may it sleep?); when it returns and reports
// when it slept and woke, the silent interval is relabelled from that evidence.
import type { SilenceRow, StoredReport } from "../state/store.ts";

/** The label for a node that just fell silent. */
export function silenceLabel(current: StoredReport | undefined): SilenceRow["label"] {
  return current?.maySleep ? "asleep" : "unreachable";
}

/** Clock differences between agent and collector tolerated when matching sleep times to a silence. */
const MATCH_SLACK_MS = 2 * 60_000;

/**
 * The label a silence should carry given the first report after it: a sleep
 * that began before the silence ended and a wake after it began prove the node
 * slept through it.
 */
export function relabelFromReport(silence: SilenceRow, report: StoredReport): SilenceRow["label"] | undefined {
  if (silence.label === "asleep") return undefined;
  const end = silence.endedMs ?? report.receivedAtMs;
  const sleptDuring = report.lastSleepMs > 0 && report.lastSleepMs <= end + MATCH_SLACK_MS && report.lastSleepMs >= silence.startedMs - 10 * MATCH_SLACK_MS;
  const wokeAfter = report.lastWakeMs > 0 && report.lastWakeMs >= silence.startedMs - MATCH_SLACK_MS && report.lastWakeMs <= report.receivedAtMs + MATCH_SLACK_MS;
  return (sleptDuring || report.lastSleepMs === 0) && wokeAfter ? "asleep" : undefined;
}
