// Findings no single agent can make: one secret on several nodes, a gateway
// token and a provider key rotated together, two agents claiming one node id,
// a node clock that is off.
import { problem, type Finding } from "../../shared/finding.ts";
import type { CredentialUse, EventRow } from "../state/store.ts";
import type { PeerProbe } from "./tailnet-prober.ts";

export interface FleetInput {
  nodes: { nodeId: string; clockSkewMs: number; concurrentStreamsSinceMs?: number; peerProbe?: PeerProbe; loopbackHealthy?: boolean }[];
  credentials: readonly CredentialUse[];
  /** credential_rotated events of the recent past. */
  rotations: readonly EventRow[];
  nowMs: number;
}

/** Two streams for one node id longer than this are two agents, not a restart the collector has not noticed yet. */
export const IDENTITY_CONFLICT_AFTER_MS = 20_000;
export const CLOCK_SKEW_LIMIT_MS = 60_000;
/** Gateway token and provider key rotations closer than this count as one change. */
export const ROTATION_WINDOW_MS = 15 * 60_000;
export const ROTATION_LOOKBACK_MS = 24 * 3_600_000;

const MAX_LISTED_NODES = 10;

export function fleetFindings(input: FleetInput): Map<string, Finding[]> {
  const out = new Map<string, Finding[]>();
  const add = (nodeId: string, finding: Finding) => out.set(nodeId, [...(out.get(nodeId) ?? []), finding]);

  // token_shared: one active fingerprint on several nodes.
  const byFingerprint = new Map<string, CredentialUse[]>();
  for (const use of input.credentials) {
    if (use.retiredMs !== undefined) continue;
    byFingerprint.set(use.fingerprint, [...(byFingerprint.get(use.fingerprint) ?? []), use]);
  }
  for (const [fingerprint, uses] of byFingerprint) {
    const nodes = [...new Set(uses.map((u) => u.nodeId))].sort();
    if (nodes.length < 2) continue;
    const listed = nodes.slice(0, MAX_LISTED_NODES).join(", ") + (nodes.length > MAX_LISTED_NODES ? ` and ${nodes.length - MAX_LISTED_NODES} more` : "");
    const kind = uses[0]!.kind === "provider_key" ? "provider key" : "gateway token";
    for (const nodeId of nodes) {
      const here = uses.filter((u) => u.nodeId === nodeId).map((u) => u.source).join(", ");
      add(nodeId, problem("fleet", "token_shared", `The same ${kind} (${fingerprint}, ${here}) is used on ${nodes.length} nodes: ${listed}.`, {
        fingerprint,
        nodes: listed,
        kind: uses[0]!.kind,
        node: nodeId,
      }));
    }
  }

  // simultaneous_rotation: both kinds rotated on one node within the window.
  // Grouped once: filtering the whole list per node was quadratic (1.6 s at 12,000 rotations).
  const recentByNode = new Map<string, EventRow[]>();
  for (const e of input.rotations) {
    if (e.kind !== "credential_rotated" || input.nowMs - e.atMs > ROTATION_LOOKBACK_MS) continue;
    const mine = recentByNode.get(e.nodeId);
    if (mine) mine.push(e);
    else recentByNode.set(e.nodeId, [e]);
  }
  for (const [nodeId, mine] of recentByNode) {
    const gateway = mine.filter((e) => e.detail.kind === "gateway_token");
    const provider = mine.filter((e) => e.detail.kind === "provider_key");
    const pair = gateway.flatMap((g) => provider.map((p) => [g, p] as const)).find(([g, p]) => Math.abs(g.atMs - p.atMs) <= ROTATION_WINDOW_MS);
    if (pair) {
      const [g, p] = pair;
      add(nodeId, problem("fleet", "simultaneous_rotation", `The gateway token (${g.detail.source}) and a provider key (${p.detail.subject}) changed within ${Math.round(Math.abs(g.atMs - p.atMs) / 60_000)} min of each other.`, {
        node: nodeId,
        gatewayRotatedAt: new Date(g.atMs).toISOString(),
        providerRotatedAt: new Date(p.atMs).toISOString(),
      }));
    }
  }

  for (const node of input.nodes) {
    if (node.concurrentStreamsSinceMs !== undefined && input.nowMs - node.concurrentStreamsSinceMs >= IDENTITY_CONFLICT_AFTER_MS) {
      add(node.nodeId, problem("fleet", "identity_conflict", `Two agents are connected as ${node.nodeId} at the same time.`, { node: node.nodeId }));
    }
    // Loopback good (the agent says so) and the collector cannot reach the tailnet URL: tunnel, never session.
    const probe = node.peerProbe;
    if (probe && !probe.ok && node.loopbackHealthy) {
      const code = probe.failure === "tls" ? "tls_failed" : "tailnet_unreachable";
      add(node.nodeId, problem("collector-probe", code, `The collector cannot reach ${probe.url}/healthz (${probe.detail ?? "no answer"}) while the node's gateway answers on loopback.`, {
        url: probe.url,
        tlsError: probe.detail ?? "",
        probedFrom: "collector",
        dnsName: new URL(probe.url).hostname,
      }));
    }
    if (Math.abs(node.clockSkewMs) > CLOCK_SKEW_LIMIT_MS) {
      const skew = `${Math.round(node.clockSkewMs / 1000)} s`;
      add(node.nodeId, problem("fleet", "clock_skew", `The node's clock is ${skew} ${node.clockSkewMs > 0 ? "ahead of" : "behind"} the collector's.`, { skew, node: node.nodeId }));
    }
  }
  return out;
}
