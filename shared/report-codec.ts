// Findings between their TypeScript shape and the wire (clawfleet.v1.Finding).
import { create } from "@bufbuild/protobuf";
import { FindingSchema, type Finding as WireFinding } from "./gen/clawfleet/v1/report_pb.ts";
import type { Finding } from "./finding.ts";
import { isCode, isLayer, isStatus } from "./taxonomy.ts";

export function toWireFinding(f: Finding): WireFinding {
  return create(FindingSchema, {
    check: f.check,
    layer: f.layer,
    status: f.status,
    code: f.code,
    summary: f.summary,
    action: f.action,
    evidence: f.evidence,
    dependsOn: f.dependsOn ?? "",
  });
}

/** Limits on what one agent may send: a hostile or broken peer cannot bloat the store. */
export const WIRE_LIMITS = { findings: 200, text: 2000, evidenceEntries: 40, evidenceValue: 1000, checkName: 64, credentials: 100 } as const;

/**
 * Sequence numbers are bounded on both sides. The collector accepts a report
 * only within SEQ_WINDOW above what it acknowledged for the node (a jump is
 * refused, never adopted), and no seq may reach MAX_SEQ (SQLite's signed
 * 64-bit INTEGER). An agent far above what its collector holds (the
 * collector's store was reset) renumbers from the collector's last ack.
 */
export const SEQ_WINDOW = 10_000n;
export const MAX_SEQ = 2n ** 63n - 1n;

export class InvalidFinding extends Error {}

/** Validates a finding from the wire; the error names the offending field. */
export function fromWireFinding(w: WireFinding, index: number): Finding {
  const where = `findings[${index}]`;
  if (!isLayer(w.layer)) throw new InvalidFinding(`${where}.layer: unknown layer "${w.layer.slice(0, 40)}"`);
  if (!isStatus(w.status)) throw new InvalidFinding(`${where}.status: unknown status "${w.status.slice(0, 40)}"`);
  if (w.code !== "" && !isCode(w.code)) throw new InvalidFinding(`${where}.code: unknown code "${w.code.slice(0, 40)}"`);
  if (w.dependsOn !== "" && !isCode(w.dependsOn)) throw new InvalidFinding(`${where}.depends_on: unknown code "${w.dependsOn.slice(0, 40)}"`);
  if (!/^[a-z][a-z0-9_-]*$/.test(w.check) || w.check.length > WIRE_LIMITS.checkName) throw new InvalidFinding(`${where}.check: invalid check name`);
  if (w.summary.length > WIRE_LIMITS.text || w.action.length > WIRE_LIMITS.text) throw new InvalidFinding(`${where}: summary or action longer than ${WIRE_LIMITS.text} characters`);
  const evidence = Object.entries(w.evidence);
  if (evidence.length > WIRE_LIMITS.evidenceEntries) throw new InvalidFinding(`${where}.evidence: more than ${WIRE_LIMITS.evidenceEntries} entries`);
  for (const [key, value] of evidence) {
    if (key.length > 64 || value.length > WIRE_LIMITS.evidenceValue) throw new InvalidFinding(`${where}.evidence.${key.slice(0, 64)}: too long`);
  }
  return {
    check: w.check,
    layer: w.layer,
    status: w.status,
    code: w.code as Finding["code"],
    summary: w.summary,
    action: w.action,
    evidence: { ...w.evidence },
    ...(w.dependsOn ? { dependsOn: w.dependsOn as Finding["dependsOn"] } : {}),
  };
}
