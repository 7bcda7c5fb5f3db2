// A hostile or broken agent gets a clear gRPC status naming the field, and
// nothing it sent is stored or lost for anyone else.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCollector, MAX_MESSAGE_BYTES, type RunningCollector } from "../../collector/collector.ts";
import { AgentService, ConnectRequestSchema, type ConnectRequest, type ConnectResponse } from "../../shared/gen/clawfleet/v1/agent_pb.ts";
import { ListNodesRequestSchema, QueryService } from "../../shared/gen/clawfleet/v1/query_pb.ts";
import { createClient } from "../../shared/grpc-adapter.ts";
import { createLogger } from "../../shared/log.ts";
import { PassThrough } from "node:stream";
import { scrape, series } from "../helpers/metrics.ts";

const hello = (nodeId: string) => create(ConnectRequestSchema, { message: { case: "hello", value: { node: { nodeId, hostname: nodeId, platform: "linux", agentVersion: "test" } } } });
const report = (seq: bigint, finding: Record<string, unknown> = { check: "gateway", layer: "gateway", status: "ok" }, fields: Record<string, unknown> = {}) =>
  create(ConnectRequestSchema, { message: { case: "report", value: { seq, verdict: "ok", primaryIndex: -1, findings: [finding as never], ...fields } } });
const helloSentAt = (nodeId: string, sentAtUnixMs: bigint) =>
  create(ConnectRequestSchema, { message: { case: "hello", value: { node: { nodeId, hostname: nodeId, platform: "linux", agentVersion: "test" }, sentAtUnixMs } } });
const GATEWAY_OK = { check: "gateway", layer: "gateway", status: "ok" };

describe("ingest under bad input", () => {
  let collector: RunningCollector;
  let dir: string;
  const logs = new PassThrough();
  let logText = "";
  logs.on("data", (chunk) => (logText += chunk));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-hostile-"));
    collector = await startCollector({ grpcListen: { host: "127.0.0.1", port: 0 }, httpListen: { host: "127.0.0.1", port: 0 }, dbPath: join(dir, "c.db"), insecure: true, log: createLogger("collector", logs) });
  });
  afterAll(async () => {
    await collector.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends messages on one stream; resolves with what came back and how it ended. */
  async function converse(messages: ConnectRequest[]): Promise<{ responses: ConnectResponse[]; error?: grpc.ServiceError }> {
    const client = createClient(AgentService, collector.grpcAddress, grpc.credentials.createInsecure());
    const stream = client.connect();
    const responses: ConnectResponse[] = [];
    stream.on("data", (r: ConnectResponse) => responses.push(r));
    const ended = new Promise<grpc.ServiceError | undefined>((resolve) => {
      stream.on("error", (e: grpc.ServiceError) => resolve(e));
      stream.on("end", () => resolve(undefined));
    });
    for (const m of messages) stream.write(m);
    stream.end();
    const error = await ended;
    client.close();
    return { responses, error };
  }

  it.each([
    ["a report before hello", [report(1n)], "report_before_hello", /report sent before hello/],
    ["a node id that is no label", [hello("Bad Node!")], "invalid_node_id", /hello\.node\.node_id must match/],
    ["an unknown layer", [hello("h1"), report(1n, { check: "gateway", layer: "kernel", status: "fail" })], "invalid_report", /findings\[0\]\.layer: unknown layer "kernel"/],
    ["an unknown code", [hello("h2"), report(1n, { check: "x", layer: "session", status: "fail", code: "<script>" })], "invalid_report", /findings\[0\]\.code: unknown code/],
    ["seq zero", [hello("h3"), report(0n)], "invalid_report", /report\.seq must be 1 or more/],
    ["two hellos", [hello("h4"), hello("h4")], "duplicate_hello", /hello sent twice/],
    ["a seq far past the last acknowledged", [hello("h5"), report(10_001n)], "seq_out_of_window", /report\.seq 10001 is more than 10000 above the last acknowledged 0/],
    ["a seq past SQLite's integer", [hello("h6"), report(2n ** 63n)], "invalid_report", /report\.seq must be at most 9223372036854775807/],
    ["an observed_at no Date can hold", [hello("h7"), report(1n, GATEWAY_OK, { observedAtUnixMs: 8_640_000_000_000_001n })], "invalid_timestamp", /report\.observed_at_unix_ms: 8640000000000001 is not a time/],
    ["a last_wake before 2000", [hello("h7"), report(1n, GATEWAY_OK, { lastWakeUnixMs: -(2n ** 63n) })], "invalid_timestamp", /report\.last_wake_unix_ms: -9223372036854775808 is not a time/],
    ["a hello sent_at no Date can hold", [helloSentAt("h8", 8_640_000_000_000_001n)], "invalid_timestamp", /hello\.sent_at_unix_ms: 8640000000000001 is not a time/],
  ])("closes the stream on %s with INVALID_ARGUMENT naming the field", async (_name, messages, reason, message) => {
    const before = (await scrape(collector.httpAddress)).get(series("clawfleet_collector_rejected_total", { reason: reason as string })) ?? 0;
    const { error } = await converse(messages as ConnectRequest[]);
    expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error?.details).toMatch(message as RegExp);
    const after = (await scrape(collector.httpAddress)).get(series("clawfleet_collector_rejected_total", { reason: reason as string }));
    expect(after).toBe(before + 1);
  });

  it("refuses a message over the size limit with RESOURCE_EXHAUSTED", async () => {
    const huge = report(1n, { check: "gateway", layer: "gateway", status: "ok", summary: "x".repeat(MAX_MESSAGE_BYTES + 10) });
    const { error } = await converse([hello("big"), huge]);
    expect(error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it("stored nothing from the rejected streams, and still takes a good agent", async () => {
    const { responses, error } = await converse([hello("good"), report(1n), report(2n)]);
    expect(error).toBeUndefined();
    expect(responses.map((r) => r.message.case)).toEqual(["welcome", "ack", "ack"]);
    const query = createClient(QueryService, collector.grpcAddress, grpc.credentials.createInsecure());
    const { nodes } = await query.listNodes(create(ListNodesRequestSchema, {}));
    query.close();
    const seqs = Object.fromEntries(nodes.map((n) => [n.node!.nodeId, n.lastSeq]));
    expect(seqs).toMatchObject({ good: 2n, h1: 0n, h2: 0n, h3: 0n, big: 0n });
    expect(Object.keys(seqs)).not.toContain("Bad Node!");
    // A refused hello leaves no node behind.
    expect(Object.keys(seqs)).not.toContain("h8");
    expect(seqs).toMatchObject({ h5: 0n, h6: 0n, h7: 0n });
    expect(logText).toMatch(/rejected agent stream .*report sent before hello/);
  });
});
