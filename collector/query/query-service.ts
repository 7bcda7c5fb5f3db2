// QueryService: the read side for `clawfleet collector query`.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  CredentialUseSchema,
  EventSchema,
  GetNodeResponseSchema,
  ListCredentialsResponseSchema,
  ListEventsResponseSchema,
  ListNodesResponseSchema,
  NodeSummarySchema,
  SilenceSchema,
  type ListNodesRequest,
  type QueryService,
} from "../../shared/gen/clawfleet/v1/query_pb.ts";
import type { MethodsOf, ServiceHandlers } from "../../shared/grpc-adapter.ts";
import { isProblem, type Finding } from "../../shared/finding.ts";
import { toWireFinding } from "../../shared/report-codec.ts";
import { activeProblems, nodeState, worstLayer } from "../classify/node-state.ts";
import type { Fleet, NodeView } from "../state/fleet.ts";
import type { CredentialUse, EventRow } from "../state/store.ts";

const MAX_LIMIT = 5000;

/** Active problems of a node: its last report's, then the fleet-wide ones. */
function problemsOf(view: NodeView, fleetFindings: Map<string, Finding[]>): Finding[] {
  return [...activeProblems(view.current?.findings ?? []), ...(fleetFindings.get(view.identity.nodeId) ?? [])];
}

export function nodeSummary(view: NodeView, fleetFindings: Map<string, Finding[]>) {
  const current = view.current;
  const problems = problemsOf(view, fleetFindings);
  const worst = worstLayer(problems);
  const primary = current && current.primaryIndex >= 0 ? current.findings[current.primaryIndex] : problems.find(isProblem);
  return create(NodeSummarySchema, {
    node: view.identity,
    state: nodeState(view.streams.size > 0, current, view.silence),
    connected: view.streams.size > 0,
    worstLayer: worst?.layer ?? "",
    worstStatus: worst?.status ?? "",
    primary: primary ? toWireFinding(primary) : undefined,
    lastReportUnixMs: BigInt(current?.receivedAtMs ?? 0),
    lastSeq: view.lastSeq,
    findings: problems.map(toWireFinding),
    clockSkewMs: BigInt(Math.round(view.clockSkewMs)),
  });
}

/** `*` and `?` globs, anchored. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
}

function matches(request: ListNodesRequest, summary: ReturnType<typeof nodeSummary>): boolean {
  if (request.state && summary.state !== request.state) return false;
  if (request.layer && summary.worstLayer !== request.layer && !summary.findings.some((f) => f.layer === request.layer)) return false;
  if (request.code && !summary.findings.some((f) => f.code === request.code)) return false;
  if (request.nodeGlob && !globToRegExp(request.nodeGlob).test(summary.node!.nodeId)) return false;
  return true;
}

function wireEvent(e: EventRow) {
  return create(EventSchema, {
    nodeId: e.nodeId,
    atUnixMs: BigInt(e.atMs),
    kind: e.kind,
    layer: e.layer ?? "",
    code: e.code ?? "",
    detail: Object.fromEntries(Object.entries(e.detail).map(([k, v]) => [k, String(v)])),
  });
}

function wireCredential(c: CredentialUse) {
  return create(CredentialUseSchema, {
    nodeId: c.nodeId,
    kind: c.kind,
    source: c.source,
    fingerprint: c.fingerprint,
    subject: c.subject,
    firstSeenUnixMs: BigInt(c.firstSeenMs),
    lastSeenUnixMs: BigInt(c.lastSeenMs),
    retiredUnixMs: BigInt(c.retiredMs ?? 0),
  });
}

const limitOf = (requested: number, fallback: number) => Math.min(requested > 0 ? requested : fallback, MAX_LIMIT);

export function queryHandlers(fleet: Fleet): ServiceHandlers<MethodsOf<typeof QueryService>> {
  return {
    listNodes(call, callback) {
      const fleetFindings = fleet.fleetFindings();
      const nodes = fleet
        .list()
        .map((v) => nodeSummary(v, fleetFindings))
        .filter((s) => matches(call.request, s))
        .sort((a, b) => a.node!.nodeId.localeCompare(b.node!.nodeId));
      callback(null, create(ListNodesResponseSchema, { nodes, nowUnixMs: BigInt(Date.now()) }));
    },
    getNode(call, callback) {
      const view = fleet.get(call.request.nodeId);
      if (!view) {
        callback({ code: grpc.status.NOT_FOUND, details: `no node "${call.request.nodeId.slice(0, 80)}" has ever reported to this collector` });
        return;
      }
      const limit = limitOf(call.request.limit, 50);
      const nodeId = view.identity.nodeId;
      callback(null, create(GetNodeResponseSchema, {
        summary: nodeSummary(view, fleet.fleetFindings()),
        allFindings: (view.current?.findings ?? []).map(toWireFinding),
        events: fleet.store.events({ sinceMs: 0, nodeId, limit }).map(wireEvent),
        silences: fleet.store.silences(nodeId, limit).map((s) =>
          create(SilenceSchema, { startedUnixMs: BigInt(s.startedMs), endedUnixMs: BigInt(s.endedMs ?? 0), label: s.label, relabelled: s.relabelled }),
        ),
        credentials: fleet.store.credentialUses().filter((c) => c.nodeId === nodeId).map(wireCredential),
        nowUnixMs: BigInt(Date.now()),
      }));
    },
    listEvents(call, callback) {
      const events = fleet.store.events({ sinceMs: Number(call.request.sinceUnixMs), nodeId: call.request.nodeId || undefined, limit: limitOf(call.request.limit, 500) });
      callback(null, create(ListEventsResponseSchema, { events: events.map(wireEvent), nowUnixMs: BigInt(Date.now()) }));
    },
    listCredentials(_call, callback) {
      const rotations = fleet.store.events({ sinceMs: 0, limit: MAX_LIMIT }).filter((e) => e.kind === "credential_rotated");
      callback(null, create(ListCredentialsResponseSchema, {
        credentials: fleet.store.credentialUses().map(wireCredential),
        rotations: rotations.map(wireEvent),
        nowUnixMs: BigInt(Date.now()),
      }));
    },
  };
}
