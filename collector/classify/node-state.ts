// A node's state for people and alerts: its last verdict while it reports,
// asleep vs unreachable once it falls silent.
import { STATUS_RANK, LAYERS, type Layer, type Status } from "../../shared/taxonomy.ts";
import { isProblem, type Finding } from "../../shared/finding.ts";
import type { StoredReport } from "../state/store.ts";

export const NODE_STATES = ["healthy", "degraded", "failing", "asleep", "unreachable"] as const;
export type NodeState = (typeof NODE_STATES)[number];

export function nodeState(connected: boolean, current: StoredReport | undefined, silence?: "asleep" | "unreachable"): NodeState {
  if (!connected) return silence ?? (current?.maySleep ? "asleep" : "unreachable");
  if (!current) return "degraded";
  if (current.verdict === "fail") return "failing";
  if (current.verdict === "ok") return "healthy";
  return "degraded";
}

/** Each layer's worst status in a report; layers that were only skipped are absent. */
export function layerStatuses(findings: readonly Finding[]): Map<Layer, Status> {
  const worst = new Map<Layer, Status>();
  for (const f of findings) {
    if (f.status === "skip") continue;
    const seen = worst.get(f.layer);
    if (!seen || STATUS_RANK[f.status] > STATUS_RANK[seen]) worst.set(f.layer, f.status);
  }
  return worst;
}

/** The first layer in dependency order with the worst status, or null when all is well. */
export function worstLayer(findings: readonly Finding[]): { layer: Layer; status: Status } | null {
  const statuses = layerStatuses(findings);
  let best: { layer: Layer; status: Status } | null = null;
  for (const layer of LAYERS) {
    const status = statuses.get(layer);
    if (!status || STATUS_RANK[status] === 0) continue;
    if (!best || STATUS_RANK[status] > STATUS_RANK[best.status]) best = { layer, status };
  }
  return best;
}

export function activeProblems(findings: readonly Finding[]): Finding[] {
  return findings.filter(isProblem);
}
