// The order in which one node tries the collectors of its fleet: weighted
// rendezvous hashing of (node id, collector), within each SRV priority, lowest
// priority first (RFC 2782). Every node gets its own order, so a fleet spreads
// over its collectors in proportion to their weights; the order depends only on
// the node and the set, so a node comes back to the same collector after a
// move, and adding or removing one collector moves only the nodes it gains or
// loses. RFC 2782 picks by weighted *random* choice; rendezvous is the same
// proportion made repeatable per node.
import { createHash } from "node:crypto";

export interface CollectorTarget {
  address: string;
  /** SRV priority: lower first. A plain list is all 0. */
  priority: number;
  /** SRV weight: share within a priority. A plain list is all 1. */
  weight: number;
}

/** RFC 2782: weight 0 gets "a very small chance" beside weighted entries. */
const ZERO_WEIGHT = 1e-3;

export function orderCollectors(targets: readonly CollectorTarget[], nodeId: string): string[] {
  const scored = targets.map((target) => ({ target, score: rendezvousScore(nodeId, target) }));
  scored.sort((a, b) => a.target.priority - b.target.priority || b.score - a.score || (a.target.address < b.target.address ? -1 : 1));
  return scored.map((s) => s.target.address);
}

/** Weighted rendezvous (Schindelhauer & Schomaker): -w / ln(u), u uniform in (0,1) from a hash. */
function rendezvousScore(nodeId: string, target: CollectorTarget): number {
  const digest = createHash("sha256").update(`${nodeId}\n${target.address}`).digest();
  const u = (Number(digest.readBigUInt64BE(0) >> 11n) + 0.5) / 2 ** 53;
  return -Math.max(target.weight, ZERO_WEIGHT) / Math.log(u);
}
