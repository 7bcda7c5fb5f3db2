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
import { REJECT_REASONS, type RejectReason } from "../ingest/reject-reasons.ts";
import type { Finding } from "../../shared/finding.ts";
import { toWireFinding } from "../../shared/report-codec.ts";
import type { Fleet, NodeView } from "../state/fleet.ts";
import { EVENT_KINDS, type CredentialUse, type EventKind, type EventRow } from "../state/store.ts";
import { failingFirst, fleetSummaries, headlineFinding, matchesFilter, MAX_GLOB_LENGTH, nodeDetail, summarizeNode, type NodeFilter, type NodeSummaryView } from "./fleet-view.ts";

const MAX_LIMIT = 5000;
/** Filters compare against short names (states, layers, codes, node ids): anything longer matches nothing and is refused. */
const MAX_FILTER_LENGTH = 64;
const MAX_NODE_ID_LENGTH = 63;

/** A request field out of bounds: answered INVALID_ARGUMENT, naming the field. */
class InvalidRequest extends Error {}

function bounded(field: string, value: string, max: number): string {
  if (value.length > max) throw new InvalidRequest(`${field} is longer than ${max} characters`);
  return value;
}

function boundedLimit(field: string, requested: number, fallback: number): number {
  if (requested > MAX_LIMIT) throw new InvalidRequest(`${field} must be at most ${MAX_LIMIT}, got ${requested}`);
  return requested > 0 ? requested : fallback;
}

/** Runs a handler body; an InvalidRequest becomes INVALID_ARGUMENT (counted) instead of a crash or an unbounded answer. */
function answerer(fleet: Fleet, reject: (reason: RejectReason) => void) {
  return function answer<T>(callback: (error: Partial<grpc.StatusObject> | null, value?: T) => void, body: () => T | undefined): void {
    let value: T | undefined | Promise<T | undefined>;
    const refused = (error: unknown) => {
      if (error instanceof InvalidRequest) {
        reject(REJECT_REASONS.invalidQuery);
        return callback({ code: grpc.status.INVALID_ARGUMENT, details: error.message });
      }
      throw error;
    };
    try {
      // At once on SQLite; on a shared store with its reads fetched first (replayed-reads.ts).
      value = fleet.reading(body);
    } catch (error) {
      return refused(error);
    }
    if (value instanceof Promise) {
      value.then(
        (answer) => answer !== undefined && callback(null, answer),
        (error: unknown) => {
          try {
            refused(error);
          } catch (failure) {
            callback({ code: grpc.status.INTERNAL, details: `query failed: ${(failure as Error).message}` });
          }
        },
      );
    } else if (value !== undefined) callback(null, value);
  };
}

export function nodeSummary(view: NodeView, fleetFindings: Map<string, Finding[]>) {
  return wireSummary(summarizeNode(view, fleetFindings));
}

function headlineOf(s: NodeSummaryView) {
  const h = headlineFinding(s);
  return h ? toWireFinding(h) : undefined;
}

function wireSummary(s: NodeSummaryView) {
  return create(NodeSummarySchema, {
    node: s.identity,
    state: s.state,
    connected: s.connected,
    worstLayer: s.worst?.layer ?? "",
    worstStatus: s.worst?.status ?? "",
    // The headline, as the page shows it: a silent node leads with its silence.
    primary: headlineOf(s),
    lastReportUnixMs: BigInt(s.lastReportMs ?? 0),
    lastSeq: s.lastSeq,
    findings: s.findings.map(toWireFinding),
    clockSkewMs: BigInt(Math.round(s.clockSkewMs)),
  });
}

function filterOf(request: ListNodesRequest): NodeFilter {
  return {
    state: bounded("state", request.state, MAX_FILTER_LENGTH),
    layer: bounded("layer", request.layer, MAX_FILTER_LENGTH),
    code: bounded("code", request.code, MAX_FILTER_LENGTH),
    nodeGlob: bounded("node_glob", request.nodeGlob, MAX_GLOB_LENGTH),
  };
}

function wireEvent(e: EventRow) {
  return create(EventSchema, {
    nodeId: e.nodeId,
    atUnixMs: BigInt(e.atMs),
    kind: e.kind,
    layer: e.layer ?? "",
    code: e.code ?? "",
    detail: Object.fromEntries(Object.entries(e.detail).map(([k, v]) => [k, String(v)])),
    id: BigInt(e.id ?? 0),
  });
}

/** An event kind to filter by: one the log writes, else refused (an unknown kind would silently match nothing). */
function eventKind(value: string): EventKind | undefined {
  if (!value) return undefined;
  if (!(EVENT_KINDS as readonly string[]).includes(value)) throw new InvalidRequest(`kind must be one of ${EVENT_KINDS.join(", ")}, got ${JSON.stringify(bounded("kind", value, MAX_FILTER_LENGTH))}`);
  return value as EventKind;
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

export function queryHandlers(fleet: Fleet, reject: (reason: RejectReason) => void = () => {}): ServiceHandlers<MethodsOf<typeof QueryService>> {
  const answer = answerer(fleet, reject);
  return {
    listNodes(call, callback) {
      answer(callback, () => {
        const filter = filterOf(call.request);
        const nodes = fleetSummaries(fleet)
          .filter((s) => matchesFilter(filter, s))
          .sort(failingFirst)
          .map(wireSummary);
        return create(ListNodesResponseSchema, { nodes, nowUnixMs: BigInt(Date.now()) });
      });
    },
    getNode(call, callback) {
      answer(callback, () => {
        const detail = nodeDetail(fleet, bounded("node_id", call.request.nodeId, MAX_NODE_ID_LENGTH), boundedLimit("limit", call.request.limit, 50));
        if (!detail) {
          callback({ code: grpc.status.NOT_FOUND, details: `no node "${call.request.nodeId.slice(0, 80)}" has ever reported to this collector` });
          return undefined;
        }
        return create(GetNodeResponseSchema, {
          summary: wireSummary(detail.summary),
          allFindings: detail.allFindings.map(toWireFinding),
          events: detail.events.map(wireEvent),
          silences: detail.silences.map((s) =>
            create(SilenceSchema, { startedUnixMs: BigInt(s.startedMs), endedUnixMs: BigInt(s.endedMs ?? 0), label: s.label, relabelled: s.relabelled }),
          ),
          credentials: detail.credentials.map(wireCredential),
          nowUnixMs: BigInt(Date.now()),
        });
      });
    },
    listEvents(call, callback) {
      answer(callback, () => {
        const nodeId = bounded("node_id", call.request.nodeId, MAX_NODE_ID_LENGTH);
        const { beforeUnixMs, beforeId } = call.request;
        const events = fleet.store.events({
          sinceMs: Number(call.request.sinceUnixMs),
          nodeId: nodeId || undefined,
          kind: eventKind(call.request.kind),
          before: beforeUnixMs > 0n || beforeId > 0n ? { atMs: Number(beforeUnixMs), id: Number(beforeId) } : undefined,
          limit: boundedLimit("limit", call.request.limit, 500),
        });
        return create(ListEventsResponseSchema, { events: events.map(wireEvent), nowUnixMs: BigInt(Date.now()) });
      });
    },
    listCredentials(_call, callback) {
      answer(callback, () => {
        // One page of rotations, by the store's kind index; the client pages on with ListEvents when truncated.
        const rotations = fleet.store.events({ sinceMs: 0, kind: "credential_rotated", limit: MAX_LIMIT + 1 });
        return create(ListCredentialsResponseSchema, {
          credentials: fleet.store.credentialUses().map(wireCredential),
          rotations: rotations.slice(0, MAX_LIMIT).map(wireEvent),
          rotationsTruncated: rotations.length > MAX_LIMIT,
          nowUnixMs: BigInt(Date.now()),
        });
      });
    },
  };
}
