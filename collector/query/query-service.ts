// QueryService: the read side for `clawfleet collector query`.
import { create } from "@bufbuild/protobuf";
import type { QueryService } from "../../shared/gen/clawfleet/v1/query_pb.ts";
import { ListNodesResponseSchema, NodeSummarySchema } from "../../shared/gen/clawfleet/v1/query_pb.ts";
import type { MethodsOf, ServiceHandlers } from "../../shared/grpc-adapter.ts";
import { toWireFinding } from "../../shared/report-codec.ts";
import { nodeState, worstLayer } from "../classify/node-state.ts";
import type { Fleet, NodeView } from "../state/fleet.ts";


export function nodeSummary(view: NodeView) {
  const current = view.current;
  const worst = current ? worstLayer(current.findings) : null;
  const primary = current && current.primaryIndex >= 0 ? current.findings[current.primaryIndex] : undefined;
  return create(NodeSummarySchema, {
    node: view.identity,
    state: nodeState(view.streams.size > 0, current, view.silence),
    connected: view.streams.size > 0,
    worstLayer: worst?.layer ?? "",
    worstStatus: worst?.status ?? "",
    primary: primary ? toWireFinding(primary) : undefined,
    lastReportUnixMs: BigInt(current?.receivedAtMs ?? 0),
    lastSeq: view.lastSeq,
  });
}

export function queryHandlers(fleet: Fleet): ServiceHandlers<MethodsOf<typeof QueryService>> {
  return {
    listNodes(_call, callback) {
      const nodes = fleet.list().map(nodeSummary).sort((a, b) => a.node!.nodeId.localeCompare(b.node!.nodeId));
      callback(null, create(ListNodesResponseSchema, { nodes, nowUnixMs: BigInt(Date.now()) }));
    },
  };
}
