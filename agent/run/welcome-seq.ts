// What the agent makes of the collector's Welcome.last_acked_seq. The collector
// is believed only within reason: a number near MAX_SEQ is poison, not state.
import { SEQ_WINDOW } from "../../shared/report-codec.ts";
import { absurdSeq } from "./sequence-file.ts";

export type WelcomeSeq =
  /** Beyond any real sequence: not adopted, nothing acknowledged by it. */
  | { kind: "absurd" }
  /**
   * The collector holds far less than this agent counted (its store was reset
   * or restored, or the agent's own number was poisoned): it would refuse every
   * report above last_acked + SEQ_WINDOW, so unacknowledged reports are
   * renumbered from last_acked + 1.
   */
  | { kind: "renumber"; from: bigint }
  /** Normal: continue from the higher of the two (a reinstalled agent lost its count). */
  | { kind: "continue"; at: bigint };

/** `ownSeq`: the highest seq this agent has handed out, on disk or in its spool. */
export function judgeWelcome(lastAckedSeq: bigint, ownSeq: bigint): WelcomeSeq {
  if (absurdSeq(lastAckedSeq)) return { kind: "absurd" };
  if (ownSeq + 1n > lastAckedSeq + SEQ_WINDOW) return { kind: "renumber", from: lastAckedSeq + 1n };
  return { kind: "continue", at: ownSeq > lastAckedSeq ? ownSeq : lastAckedSeq };
}
