// Property-based: whatever bytes a peer sends on AgentService.Connect (random,
// mutated real messages, structured messages with boundary integers, wrong
// types, huge repeated fields), the collector answers OK or a client-error
// status, never INTERNAL or UNKNOWN, never crashes or stalls, and its pages
// still render. Raw bytes go over a real gRPC stream.
import * as grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCollector, type RunningCollector } from "../../collector/collector.ts";
import { ConnectRequestSchema } from "../../shared/gen/clawfleet/v1/agent_pb.ts";
import { createLogger } from "../../shared/log.ts";

const ALLOWED = new Set([grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED, grpc.status.PERMISSION_DENIED, grpc.status.CANCELLED]);
const CONNECT = "/clawfleet.v1.AgentService/Connect";

describe("ingest under arbitrary input", () => {
  let dir: string;
  let collector: RunningCollector;
  let client: grpc.Client;
  let nodeCounter = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-prop-ingest-"));
    collector = await startCollector({
      grpcListen: { host: "127.0.0.1", port: 0 },
      httpListen: { host: "127.0.0.1", port: 0 },
      dbPath: join(dir, "c.db"),
      insecure: true,
      // Hundreds of hellos with fresh node ids from one address: the limits would refuse most, hiding what ingest does with the input.
      limits: { hellosPerPeerBurst: 10_000, hellosPerPeerPerSecond: 1000, newNodesBurst: 10_000, newNodesPerMinute: 60_000 },
      log: createLogger("collector", new PassThrough()),
    });
    client = new grpc.Client(collector.grpcAddress, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    await collector.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const hello = (nodeId: string) => Buffer.from(toBinary(ConnectRequestSchema, create(ConnectRequestSchema, { message: { case: "hello", value: { node: { nodeId, hostname: nodeId, platform: "linux", agentVersion: "prop" }, sentAtUnixMs: BigInt(Date.now()) } } })));

  /** Sends raw frames on one stream; resolves with the final status code once the collector answers or 1.5 s pass. */
  function exchange(frames: Buffer[]): Promise<number> {
    const call = client.makeBidiStreamRequest(CONNECT, (b: Buffer) => b, (b: Buffer) => b);
    return new Promise((resolve) => {
      let done = false;
      const finish = (code: number) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        call.cancel();
        resolve(code);
      };
      const timer = setTimeout(() => finish(grpc.status.OK), 1500);
      call.on("data", () => {});
      call.on("status", (status: grpc.StatusObject) => finish(status.code));
      call.on("error", () => {});
      for (const frame of frames) call.write(frame);
      call.end();
    });
  }

  const validReport = (seq: bigint) =>
    Buffer.from(toBinary(ConnectRequestSchema, create(ConnectRequestSchema, { message: { case: "report", value: { seq, verdict: "ok", primaryIndex: -1, observedAtUnixMs: BigInt(Date.now()), findings: [{ check: "gateway", layer: "gateway", status: "ok", code: "", summary: "ready" }] } } })));

  async function healthzMs(): Promise<number> {
    const started = performance.now();
    const response = await fetch(`http://${collector.httpAddress}/healthz`);
    expect(response.status).toBe(200);
    return performance.now() - started;
  }

  it("answers random bytes, before or after a valid hello, with a client-error status", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), async (bytes, afterHello) => {
        const frames = afterHello ? [hello(`prop-${nodeCounter++}`), Buffer.from(bytes)] : [Buffer.from(bytes)];
        const code = await exchange(frames);
        expect(ALLOWED, `status ${grpc.status[code]}`).toContain(code);
      }),
      { numRuns: 150 },
    );
    expect(await healthzMs()).toBeLessThan(100);
  });

  it("answers mutated real reports (flipped, truncated, spliced bytes) with a client-error status", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 1n, max: 50n }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.uint8Array({ maxLength: 64 }),
        async (seq, flips, cut, splice) => {
          const report = Buffer.from(validReport(seq));
          for (const [at, value] of flips) report[at % report.length] = value;
          const truncated = cut === undefined ? report : report.subarray(0, cut % report.length);
          const code = await exchange([hello(`prop-${nodeCounter++}`), Buffer.concat([truncated, Buffer.from(splice)])]);
          expect(ALLOWED, `status ${grpc.status[code]}`).toContain(code);
        },
      ),
      { numRuns: 150 },
    );
    expect(await healthzMs()).toBeLessThan(100);
  });

  it("answers structured reports with boundary integers, absurd timestamps and huge repeated fields without INTERNAL", async () => {
    const int64 = fc.constantFrom(0n, 1n, -1n, 2n ** 31n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 8_640_000_000_000_001n);
    const uint64 = fc.constantFrom(0n, 1n, 2n, 10_001n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n);
    const text = fc.string({ maxLength: 300, unit: "binary" });
    const seen = new Map<number, number>();
    const finding = fc.record({ check: fc.oneof(fc.constantFrom("gateway", "session"), text), layer: fc.oneof(fc.constantFrom("gateway", "tunnel", "power"), text), status: fc.oneof(fc.constantFrom("ok", "warn", "fail", "skip", "error"), text), code: text, summary: text, action: text });
    await fc.assert(
      fc.asyncProperty(uint64, int64, int64, int64, fc.array(finding, { maxLength: 250 }), fc.integer({ min: -5, max: 300 }), fc.nat({ max: 1500 }), async (seq, observed, wake, sleep, findings, primaryIndex, credentialCount) => {
        const message = create(ConnectRequestSchema, {
          message: {
            case: "report",
            value: {
              seq,
              observedAtUnixMs: observed,
              lastWakeUnixMs: wake,
              lastSleepUnixMs: sleep,
              verdict: "fail",
              primaryIndex,
              findings,
              credentials: Array.from({ length: credentialCount }, (_, i) => ({ kind: "gateway_token", source: "config", fingerprint: `hmac:${"0".repeat(16)}${i}`, subject: "gateway" })),
            },
          },
        });
        const code = await exchange([hello(`prop-${nodeCounter++}`), Buffer.from(toBinary(ConnectRequestSchema, message))]);
        seen.set(code, (seen.get(code) ?? 0) + 1);
        expect(ALLOWED, `status ${grpc.status[code]}`).toContain(code);
      }),
      { numRuns: 120 },
    );
    // Not vacuous: most of these are invalid and were refused as such.
    expect(seen.get(grpc.status.INVALID_ARGUMENT) ?? 0).toBeGreaterThan(60);
    expect(await healthzMs()).toBeLessThan(100);
    // Whatever was stored renders: the fleet page never answers 500.
    const page = await fetch(`http://${collector.httpAddress}/`);
    expect(page.status).toBe(200);
  });
  it("answers valid reports with boundary sequence numbers and timestamps without INTERNAL, and pages still render", async () => {
    const int64 = fc.constantFrom(0n, 1n, -1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 8_640_000_000_000_001n, BigInt(Date.now()));
    const uint64 = fc.oneof(fc.constantFrom(1n, 2n, 10_000n, 10_001n, 2n ** 32n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
    await fc.assert(
      fc.asyncProperty(uint64, int64, int64, int64, int64, async (seq, observed, wake, sleep, sentAt) => {
        const nodeId = `edge-${nodeCounter++}`;
        const helloFrame = Buffer.from(toBinary(ConnectRequestSchema, create(ConnectRequestSchema, { message: { case: "hello", value: { node: { nodeId, hostname: nodeId, platform: "linux", agentVersion: "prop" }, sentAtUnixMs: sentAt } } })));
        const report = create(ConnectRequestSchema, {
          message: { case: "report", value: { seq, observedAtUnixMs: observed, lastWakeUnixMs: wake, lastSleepUnixMs: sleep, verdict: "ok", primaryIndex: -1, findings: [{ check: "gateway", layer: "gateway", status: "ok", code: "", summary: "ready" }] } },
        });
        const code = await exchange([helloFrame, Buffer.from(toBinary(ConnectRequestSchema, report))]);
        expect(ALLOWED, `status ${grpc.status[code]}`).toContain(code);
        const page = await fetch(`http://${collector.httpAddress}/node/${nodeId}`);
        expect([200, 404]).toContain(page.status);
      }),
      { numRuns: 120 },
    );
    expect((await fetch(`http://${collector.httpAddress}/`)).status).toBe(200);
    expect(await healthzMs()).toBeLessThan(100);
  });
});
