// The fleet as people read it: one summary per node (state, worst layer,
// primary problem, active findings), the filters operators use, and the
// failing-first order. The query service (CLI, over gRPC) and the fleet page
// (HTTP) both build on this, so they can never disagree about a node.
import { globMatch } from "../../shared/glob-match.ts";
import { isProblem, problem, type Finding } from "../../shared/finding.ts";
import { CODES, LAYERS, type Code, type Layer, type Status } from "../../shared/taxonomy.ts";
import { activeProblems, nodeState, worstLayer, type NodeState } from "../classify/node-state.ts";
import type { Fleet, NodeView } from "../state/fleet.ts";
import type { CredentialUse, EventRow, NodeIdentityRow, SilenceRow, StoredReport } from "../state/store.ts";

export interface NodeSummaryView {
  identity: NodeIdentityRow;
  state: NodeState;
  connected: boolean;
  worst: { layer: Layer; status: Status } | null;
  /** The root cause the agent named, else the first active problem. */
  primary?: Finding;
  /** Receive time of the current report; undefined before the first report. */
  lastReportMs?: number;
  lastSeq: bigint;
  /** Active problems: the last report's, then the fleet-wide ones. */
  findings: Finding[];
  clockSkewMs: number;
}

/**
 * What a node leads with, wherever it is shown (the page's row and node page,
 * `collector query`, its JSON). A silent node's last report is stale (the Mac
 * went to sleep, its "gateway down" is not news), so it leads with the silence
 * and its action, and keeps the last problem as context.
 */
export function headlineFinding(s: NodeSummaryView): Finding | undefined {
  if (s.state !== "asleep" && s.state !== "unreachable") return s.primary;
  const code: Code = s.state === "asleep" ? "silent_asleep" : "silent_unreachable";
  return problem("collector", code, CODES[code].title, { node: s.identity.nodeId });
}

export interface Headline {
  layer?: string;
  code?: string;
  /** What to do next, from the agent's finding or the taxonomy. */
  action?: string;
  summary?: string;
  /** For a silent node: what its last report said, which may be stale. */
  lastKnown?: Finding;
}

export function headline(s: NodeSummaryView): Headline {
  const h = headlineFinding(s);
  if (!h) return {};
  const silent = h !== s.primary;
  return { layer: h.layer, code: h.code || undefined, action: h.action || undefined, summary: h.summary, ...(silent ? { lastKnown: s.primary } : {}) };
}

export interface NodeFilter {
  state?: string;
  layer?: string;
  code?: string;
  /** `*` and `?` globs over the node id, anchored. */
  nodeGlob?: string;
}

/** Active problems of a node: its last report's, then the fleet-wide ones. */
function problemsOf(view: NodeView, fleetFindings: Map<string, Finding[]>): Finding[] {
  return [...activeProblems(view.current?.findings ?? []), ...(fleetFindings.get(view.identity.nodeId) ?? [])];
}

export function summarizeNode(view: NodeView, fleetFindings: Map<string, Finding[]>): NodeSummaryView {
  const current = view.current;
  const problems = problemsOf(view, fleetFindings);
  const primary = current && current.primaryIndex >= 0 ? current.findings[current.primaryIndex] : problems.find(isProblem);
  return {
    identity: view.identity,
    state: nodeState(view.streams.size > 0, current, view.silence),
    connected: view.streams.size > 0,
    worst: worstLayer(problems),
    primary,
    lastReportMs: current?.receivedAtMs,
    lastSeq: view.lastSeq,
    findings: problems,
    clockSkewMs: view.clockSkewMs,
  };
}

/** Longest glob a query or the page may filter by: node ids are at most 63 characters. */
export const MAX_GLOB_LENGTH = 256;

/** Anchored `*` and `?` match of a node id, linear in glob × id: no regular expression is built from user input. */
export const globMatches = (glob: string, nodeId: string) => globMatch(glob, nodeId, "wildcards");

/** A node matches a layer when that layer is its worst or any active finding is in it. */
export function matchesFilter(filter: NodeFilter, summary: NodeSummaryView): boolean {
  if (filter.state && summary.state !== filter.state) return false;
  if (filter.layer && summary.worst?.layer !== filter.layer && !summary.findings.some((f) => f.layer === filter.layer)) return false;
  if (filter.code && !summary.findings.some((f) => f.code === filter.code)) return false;
  if (filter.nodeGlob && !globMatches(filter.nodeGlob, summary.identity.nodeId)) return false;
  return true;
}

/** Read top-down at 3 a.m.: what is broken first, what is fine last. */
export const STATE_ORDER: readonly NodeState[] = ["failing", "unreachable", "degraded", "asleep", "healthy"];

/** Failing first, then by worst layer in dependency order, then by id. */
export function failingFirst(a: NodeSummaryView, b: NodeSummaryView): number {
  const layerRank = (s: NodeSummaryView) => (s.worst ? LAYERS.indexOf(s.worst.layer) : LAYERS.length);
  return (
    STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state) ||
    layerRank(a) - layerRank(b) ||
    a.identity.nodeId.localeCompare(b.identity.nodeId)
  );
}

/** Every node's summary, unfiltered and unsorted. */
export function fleetSummaries(fleet: Fleet): NodeSummaryView[] {
  const fleetFindings = fleet.fleetFindings();
  return fleet.list().map((v) => summarizeNode(v, fleetFindings));
}

export interface NodeDetailView {
  summary: NodeSummaryView;
  /** The last report's findings, passed and skipped checks included. */
  allFindings: Finding[];
  current?: StoredReport;
  events: EventRow[];
  silences: SilenceRow[];
  credentials: CredentialUse[];
}

/** Everything the collector knows about one node; undefined when it never reported. */
export function nodeDetail(fleet: Fleet, nodeId: string, limit: number): NodeDetailView | undefined {
  const view = fleet.get(nodeId);
  if (!view) return undefined;
  const id = view.identity.nodeId;
  return {
    summary: summarizeNode(view, fleet.fleetFindings()),
    allFindings: view.current?.findings ?? [],
    current: view.current,
    events: fleet.store.events({ sinceMs: 0, nodeId: id, limit }),
    silences: fleet.store.silences(id, limit),
    credentials: fleet.store.credentialUses({ nodeId: id }),
  };
}
