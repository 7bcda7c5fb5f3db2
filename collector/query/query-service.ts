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
import type { Finding } from "../../shared/finding.ts";
import { toWireFinding } from "../../shared/report-codec.ts";
import type { Fleet, NodeView } from "../state/fleet.ts";
import type { CredentialUse, EventRow } from "../state/store.ts";
import { failingFirst, fleetSummaries, globToRegExp, matchesFilter, nodeDetail, summarizeNode, type NodeFilter, type NodeSummaryView } from "./fleet-view.ts";

const MAX_LIMIT = 5000;

export { globToRegExp };

export function nodeSummary(view: NodeView, fleetFindings: Map<string, Finding[]>) {
  return wireSummary(summarizeNode(view, fleetFindings));
}

function wireSummary(s: NodeSummaryView) {
  return create(NodeSummarySchema, {
    node: s.identity,
    state: s.state,
    connected: s.connected,
    worstLayer: s.worst?.layer ?? "",
    worstStatus: s.worst?.status ?? "",
    primary: s.primary ? toWireFinding(s.primary) : undefined,
    lastReportUnixMs: BigInt(s.lastReportMs ?? 0),
    lastSeq: s.lastSeq,
    findings: s.findings.map(toWireFinding),
    clockSkewMs: BigInt(Math.round(s.clockSkewMs)),
  });
}

function filterOf(request: ListNodesRequest): NodeFilter {
  return { state: request.state, layer: request.layer, code: request.code, nodeGlob: request.nodeGlob };
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
      const filter = filterOf(call.request);
      const nodes = fleetSummaries(fleet)
        .filter((s) => matchesFilter(filter, s))
        .sort(failingFirst)
        .map(wireSummary);
      callback(null, create(ListNodesResponseSchema, { nodes, nowUnixMs: BigInt(Date.now()) }));
    },
    getNode(call, callback) {
      const detail = nodeDetail(fleet, call.request.nodeId, limitOf(call.request.limit, 50));
      if (!detail) {
        callback({ code: grpc.status.NOT_FOUND, details: `no node "${call.request.nodeId.slice(0, 80)}" has ever reported to this collector` });
        return;
      }
      callback(null, create(GetNodeResponseSchema, {
        summary: wireSummary(detail.summary),
        allFindings: detail.allFindings.map(toWireFinding),
        events: detail.events.map(wireEvent),
        silences: detail.silences.map((s) =>
          create(SilenceSchema, { startedUnixMs: BigInt(s.startedMs), endedUnixMs: BigInt(s.endedMs ?? 0), label: s.label, relabelled: s.relabelled }),
        ),
        credentials: detail.credentials.map(wireCredential),
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
