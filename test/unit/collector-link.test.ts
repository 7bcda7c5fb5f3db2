// The collector link in-process against a fake collector over real gRPC on
// loopback: what it does with CheckNow bursts and floods, bogus acks, and a
// welcome far below its own count.
import { create } from "@bufbuild/protobuf";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CollectorLink } from "../../agent/run/collector-link.ts";
import { SequenceFile } from "../../agent/run/sequence-file.ts";
import { Spool } from "../../agent/run/spool.ts";
import { NodeIdentitySchema, ReportSchema } from "../../shared/gen/clawfleet/v1/report_pb.ts";
import { createLogger } from "../../shared/log.ts";
import { ack, checkNow, startFakeCollector, type FakeCollector, type FakeCollectorBehaviour, type FakeStream } from "../helpers/fake-collector.ts";
import * as grpc from "@grpc/grpc-js";
import { AgentService } from "../../shared/gen/clawfleet/v1/agent_pb.ts";
import { addService } from "../../shared/grpc-adapter.ts";
import { CollectorDirectory } from "../../agent/run/collector-choice.ts";
import { parseCollectorSpec } from "../../shared/collector-list.ts";
import { orderCollectors } from "../../shared/collector-order.ts";

/** A collector that takes the stream and the hello and never answers (a hung process behind a live socket). */
async function startSilentCollector(): Promise<{ address: string; streams: () => number; stop(): void }> {
  let streams = 0;
  const server = new grpc.Server();
  addService(server, AgentService, {
    connect(stream: FakeStream) {
      streams++;
      stream.on("error", () => {});
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  return { address: `127.0.0.1:${port}`, streams: () => streams, stop: () => server.forceShutdown() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const report = (seq: bigint) => create(ReportSchema, { seq, verdict: "ok", primaryIndex: -1, observedAtUnixMs: 1000n + seq });

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(20);
  }
}

describe("collector link", () => {
  let dir: string;
  let fake: FakeCollector | undefined;
  let link: CollectorLink | undefined;
  const lines: string[] = [];
  // The real logger, writing its lines here instead of to stderr.
  const log = createLogger("agent", { write: (line: string) => lines.push(line) > 0 } as unknown as NodeJS.WritableStream);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-link-"));
    lines.length = 0;
  });
  afterEach(async () => {
    link?.stop();
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function connect(behaviour: FakeCollectorBehaviour, sequence = new SequenceFile(join(dir, "n.seq")), spool?: Spool, awaitWelcome = true) {
    fake = await startFakeCollector(behaviour);
    const checks: string[] = [];
    link = new CollectorLink({ address: fake.address, identity: create(NodeIdentitySchema, { nodeId: "n" }), log, sequence, spool, onCheckNow: (reason) => checks.push(reason), backoff: { initialMs: 100, maxMs: 1000 } });
    link.start();
    // A flooding collector may cost the link its stream before a poll sees it welcomed.
    await until(() => (awaitWelcome ? link!.connected : fake!.streams >= 1));
    return { checks, sequence };
  }

  it("runs at most a burst of 3 checks for 20 CheckNow, without dropping the stream", async () => {
    const { checks } = await connect({ lastAckedSeq: () => 0n, afterWelcome: (stream) => Array.from({ length: 20 }, (_, i) => stream.write(checkNow(`ask ${i}`))) });
    await sleep(300);
    expect(checks).toEqual(["ask 0", "ask 1", "ask 2"]);
    expect(fake!.streams).toBe(1);
    expect(lines.filter((l) => l.includes("flooding"))).toEqual([]);
  });

  it("drops a stream that floods past 100 messages, reconnects later, and logs it once", async () => {
    const { checks } = await connect({ lastAckedSeq: () => 0n, afterWelcome: (stream) => Array.from({ length: 1000 }, () => stream.write(checkNow("flood"))) }, undefined, undefined, false);
    await until(() => fake!.streams >= 3, 8000);
    expect(checks.length).toBeLessThanOrEqual(3);
    expect(lines.filter((l) => l.includes("flooding this agent"))).toHaveLength(1);
  });

  it("ignores acks for reports never sent, logs that once, and still takes real ones", async () => {
    const sequence = new SequenceFile(join(dir, "n.seq"));
    let collectorSide: FakeStream | undefined;
    await connect({ lastAckedSeq: () => 0n, ack: false, afterWelcome: (stream) => (collectorSide = stream) }, sequence);
    for (let i = 0; i < 3; i++) link!.send(report(sequence.next()));
    await until(() => fake!.reports.length === 3);
    // Each would otherwise acknowledge, and so drop, every unsent report.
    for (const seq of [4n, 1_000_000n, 2n ** 64n - 1n]) collectorSide!.write(ack(seq));
    await sleep(200);
    expect(link!.unacknowledged).toBe(3);
    expect(lines.filter((l) => l.includes("never sent"))).toHaveLength(1);
    collectorSide!.write(ack(2n));
    await until(() => link!.unacknowledged === 1);
    expect(fake!.streams).toBe(1);
  });

  it("renumbers pending and spooled reports from last_acked + 1 when the welcome is far below its count", async () => {
    const sequence = new SequenceFile(join(dir, "n.seq"));
    sequence.restartAt(50_000n);
    const spool = new Spool(join(dir, "spool"));
    for (const seq of [49_998n, 50_000n]) spool.add(report(seq));
    // The link loads the spool as an agent does at start.
    await connect({ lastAckedSeq: () => 7n }, sequence, spool);
    await until(() => fake!.reports.length >= 2);
    expect(fake!.reports.map((r) => [r.seq, r.observedAtUnixMs])).toEqual([
      [8n, 1000n + 49_998n],
      [9n, 1000n + 50_000n],
    ]);
    expect(sequence.current).toBe(9n);
    expect(sequence.next()).toBe(10n);
    expect(lines.filter((l) => l.includes("renumbering"))).toHaveLength(1);
    await until(() => link!.unacknowledged === 0);
    expect(readdirSync(join(dir, "spool"))).toEqual([]);
  });

  it("with several collectors, leaves one that sends no welcome for the next and sends it the pending reports; alone, it keeps waiting", async () => {
    const silent = await startSilentCollector();
    fake = await startFakeCollector({ lastAckedSeq: () => 0n });
    try {
      const targets = [silent.address, fake.address].map((address) => ({ address, priority: 0, weight: 1 }));
      let nodeId = "n-0";
      for (let i = 0; orderCollectors(targets, nodeId)[0] !== silent.address; i++) nodeId = `n-${i}`;
      const sequence = new SequenceFile(join(dir, "n.seq"));
      const spool = new Spool(join(dir, "spool"));
      for (const seq of [1n, 2n]) spool.add(report(seq));
      sequence.restartAt(2n);
      const collectors = new CollectorDirectory(parseCollectorSpec("collector", `${silent.address},${fake.address}`));
      link = new CollectorLink({ collectors, identity: create(NodeIdentitySchema, { nodeId }), log, sequence, spool, welcomeTimeoutMs: 400 });
      const started = Date.now();
      link.start();
      await until(() => link!.connected);
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      expect(link.collector).toBe(fake.address);
      expect(silent.streams()).toBe(1);
      await until(() => fake!.reports.length === 2);
      expect(lines.filter((l) => l.includes("collector sent no welcome: trying the next"))).toHaveLength(1);
      link.stop();

      // One collector: nowhere else to go, so the link waits on the stream it has.
      link = new CollectorLink({ address: silent.address, identity: create(NodeIdentitySchema, { nodeId }), log, sequence, welcomeTimeoutMs: 400 });
      link.start();
      await sleep(1200);
      expect(silent.streams()).toBe(2);
      expect(link.connected).toBe(false);
    } finally {
      silent.stop();
    }
  });
});
