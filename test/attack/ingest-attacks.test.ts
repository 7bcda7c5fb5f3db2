// Each attack a hostile peer tried against the collector, replayed against a
// real `collector serve` (default limits) while three legitimate agents keep
// reporting. For every attack: refused with the right status, counted by
// reason, legitimate reports still acknowledged within their interval and
// stored exactly once, /healthz prompt, and nothing refused left behind.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../collector/ingest/limits.ts";
import { REJECT_REASONS } from "../../collector/ingest/reject-reasons.ts";
import { GetNodeRequestSchema, ListEventsRequestSchema, ListNodesRequestSchema, QueryService } from "../../shared/gen/clawfleet/v1/query_pb.ts";
import { createClient } from "../../shared/grpc-adapter.ts";
import { MAX_SEQ, SEQ_WINDOW } from "../../shared/report-codec.ts";
import { healthyFindings, startSimulatedAgent, type SimulatedAgent } from "../helpers/agent-simulator.ts";
import { startCollectorProcess, type TestCollector } from "../helpers/collector.ts";
import { scrape, series, type Samples } from "../helpers/metrics.ts";
import { stopAll } from "../helpers/processes.ts";
import { probeHealthz } from "./healthz-prober.ts";
import type { FloodOutcome, FloodPlan } from "./flood-worker.ts";
import { hello, RawPeer, report, undecodableHello, type RawStatus, type RawStream } from "./raw-agent.ts";

const INTERVAL_MS = 1000;
const LEGIT = ["legit-1", "legit-2", "legit-3"];
const S = grpc.status;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rejected = (samples: Samples, reason: string) => samples.get(series("clawfleet_collector_rejected_total", { reason })) ?? 0;
const outcome = (samples: Samples, name: string) => samples.get(series("clawfleet_collector_reports_total", { outcome: name })) ?? 0;

describe("ingest under attack", () => {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-attack-"));
  const dbPath = join(dir, "collector.db");
  let collector: TestCollector;
  let db: DatabaseSync;
  const agents: SimulatedAgent[] = [];
  /** When each legitimate agent's acknowledged seq last moved: a watcher samples it every 10 ms. */
  const lastAckAt = new Map<string, { seq: bigint; atMs: number }>();
  let watcher: NodeJS.Timeout;
  const peers: RawPeer[] = [];
  const summary: string[] = [];
  /** Node ids the ghost floods were allowed to create: the flood reuses them, as an attacker would. */
  const ghostNodes: string[] = [];

  const peer = (address: string) => {
    const p = new RawPeer(collector.grpcAddress, address);
    peers.push(p);
    return p;
  };
  const storedSeqs = (nodeId: string) => (db.prepare("SELECT seq FROM reports WHERE node_id = ? ORDER BY seq").all(nodeId) as { seq: number }[]).map((r) => BigInt(r.seq));
  const nodeCount = () => (db.prepare("SELECT count(*) AS n FROM nodes").get() as { n: number }).n;
  const rowsFor = (table: string, nodeIds: string[]) =>
    nodeIds.length === 0 ? 0 : (db.prepare(`SELECT count(*) AS n FROM ${table} WHERE node_id IN (${nodeIds.map(() => "?").join(",")})`).get(...nodeIds) as { n: number }).n;

  interface AttackResult {
    sent: number;
    refused: number;
    stored: number;
    /** Reasons this attack must have raised, and by how much. */
    counted: Partial<Record<string, number>>;
  }

  /**
   * Runs an attack while probing /healthz every 20 ms and watching the legitimate
   * agents; then checks what every attack must leave intact and prints its line.
   */
  async function underAttack(name: string, attack: () => Promise<AttackResult>): Promise<AttackResult> {
    const before = await scrape(collector.httpAddress);
    const prober = probeHealthz(collector.httpAddress);
    await prober.ready;
    const ackedBefore = agents.map((a) => a.ackedSeq);
    const windowStart = Date.now();
    let result: AttackResult;
    let longestAckGapMs = 0;
    const gapSampler = setInterval(() => {
      for (const a of agents) longestAckGapMs = Math.max(longestAckGapMs, Date.now() - Math.max(lastAckAt.get(a.nodeId)!.atMs, windowStart));
    }, 10);
    try {
      result = await attack();
      // At least one full interval under (and just after) the attack for the legitimate agents.
      await sleep(Math.max(0, INTERVAL_MS + 300 - (Date.now() - windowStart)));
    } finally {
      clearInterval(gapSampler);
    }
    const healthz = await prober.stop();
    expect(healthz.probes, `${name}: /healthz probes`).toBeGreaterThan(5);
    const after = await scrape(collector.httpAddress);

    for (const [reason, count] of Object.entries(result.counted)) expect(rejected(after, reason) - rejected(before, reason), `${name}: rejected{reason="${reason}"}`).toBe(count);
    const countedTotal = Object.values(result.counted).reduce<number>((sum, n) => sum + (n ?? 0), 0);
    expect(countedTotal, `${name}: every refusal counted`).toBe(result.refused);
    // Within 100 ms, measured as the 90th percentile so that another process taking the CPU
    // for one probe is not blamed on the collector; a freeze (the 55 s glob, the 2.5 s flood) fails either way.
    expect(healthz.p90, `${name}: /healthz 90th percentile of ${healthz.probes} probes (ms)`).toBeLessThan(100);
    expect(healthz.slowest, `${name}: slowest /healthz (ms)`).toBeLessThan(1000);
    // Acknowledged within their interval: every report's ack comes before the next report is
    // due, so two acks are never more than two intervals apart.
    expect(longestAckGapMs, `${name}: longest time between two acks of a legitimate agent (ms)`).toBeLessThan(2 * INTERVAL_MS);
    agents.forEach((a, i) => expect(a.ackedSeq, `${name}: ${a.nodeId} kept reporting`).toBeGreaterThan(ackedBefore[i]!));

    // Legitimate reports: every acknowledged one stored, none twice, none the collector took for a duplicate.
    let lost = 0;
    for (const a of agents) {
      const stored = storedSeqs(a.nodeId);
      const acked = a.ackedSeq;
      lost += Number(acked) - stored.filter((s) => s <= acked).length;
      expect(new Set(stored).size).toBe(stored.length);
    }
    const duplicates = outcome(after, "duplicate") - outcome(before, "duplicate");
    expect(lost, `${name}: legitimate reports lost`).toBe(0);
    expect(duplicates, `${name}: legitimate reports taken for duplicates`).toBe(0);
    const line = `attack=${name} sent=${result.sent} refused=${result.refused} stored=${result.stored} lost=${lost} duplicates=${duplicates} healthz_ms_p50/p90/max=${healthz.median.toFixed(0)}/${healthz.p90.toFixed(0)}/${healthz.slowest.toFixed(0)} legit_ack_gap_max_ms=${longestAckGapMs}`;
    summary.push(line);
    console.log(line);
    return result;
  }

  /** Statuses of streams, by code. */
  const codes = (statuses: RawStatus[]) => statuses.reduce<Record<number, number>>((m, s) => ((m[s.code] = (m[s.code] ?? 0) + 1), m), {});

  beforeAll(async () => {
    collector = await startCollectorProcess(dbPath);
    db = new DatabaseSync(dbPath, { readOnly: true });
    for (const nodeId of LEGIT) agents.push(startSimulatedAgent({ collector: collector.grpcAddress, nodeId, maySleep: false, findings: healthyFindings(), intervalMs: INTERVAL_MS }));
    await Promise.all(agents.map((a) => a.connected));
    for (const a of agents) lastAckAt.set(a.nodeId, { seq: a.ackedSeq, atMs: Date.now() });
    watcher = setInterval(() => {
      for (const a of agents) if (a.ackedSeq !== lastAckAt.get(a.nodeId)!.seq) lastAckAt.set(a.nodeId, { seq: a.ackedSeq, atMs: Date.now() });
    }, 5);
    await sleep(INTERVAL_MS + 100);
  }, 20_000);

  afterAll(async () => {
    clearInterval(watcher);
    agents.forEach((a) => a.stop());
    peers.forEach((p) => p.close());
    db?.close();
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
    console.log(`attack summary:\n${summary.join("\n")}`);
  });

  it("seq poisoning: a jump past the window or past MAX_SEQ is refused, and the node's sequence is never adopted from it", async () => {
    const victim = agents[0]!;
    const jumps = [victim.ackedSeq + SEQ_WINDOW + 2n, MAX_SEQ, MAX_SEQ + 1n, 2n ** 64n - 1n];
    const result = await underAttack("seq_poisoning", async () => {
      const attacker = peer("127.0.0.2");
      const statuses: RawStatus[] = [];
      for (const seq of jumps) {
        // Unauthenticated today: the attacker speaks as the victim's node id on a second stream.
        const stream = attacker.open();
        stream.send(hello(victim.nodeId));
        stream.send(report(seq));
        statuses.push(await stream.status);
        expect(stream.acks).toEqual([]);
      }
      expect(statuses.map((s) => s.code)).toEqual([S.INVALID_ARGUMENT, S.INVALID_ARGUMENT, S.INVALID_ARGUMENT, S.INVALID_ARGUMENT]);
      expect(statuses[0]!.details).toMatch(/report\.seq \d+ is more than 10000 above the last acknowledged/);
      expect(statuses[2]!.details).toMatch(/report\.seq must be at most 9223372036854775807/);
      const stored = storedSeqs(victim.nodeId).filter((s) => jumps.includes(s)).length;
      return { sent: jumps.length, refused: statuses.length, stored, counted: { [REJECT_REASONS.seqOutOfWindow]: 2, [REJECT_REASONS.invalidReport]: 2 } };
    });
    expect(result.stored).toBe(0);
    // The node's sequence follows the real agent: its latest report is the current one, not an "older" one.
    const query = createClient(QueryService, collector.grpcAddress, grpc.credentials.createInsecure());
    const { summary: node } = await query.getNode(create(GetNodeRequestSchema, { nodeId: victim.nodeId }));
    query.close();
    expect(node!.lastSeq).toBeLessThanOrEqual(victim.ackedSeq + 1n);
    expect(node!.lastSeq).toBeGreaterThanOrEqual(victim.ackedSeq - 1n);
  });

  it("undecodable bytes (a node id that is not UTF-8) answer INVALID_ARGUMENT, counted, on ingest and on query", async () => {
    await underAttack("undecodable", async () => {
      const attacker = peer("127.0.0.3");
      const streams = Array.from({ length: 20 }, () => {
        const s = attacker.open();
        s.send(undecodableHello());
        return s;
      });
      const statuses = await Promise.all(streams.map((s) => s.status));
      expect(codes(statuses)).toEqual({ [S.INVALID_ARGUMENT]: 20 });
      expect(statuses[0]!.details).toMatch(/undecodable message/);
      // The same bytes on the query side: a unary call, answered before any handler.
      const unary = attacker.open("/clawfleet.v1.QueryService/ListNodes");
      unary.send(Buffer.from([0x22, 0x02, 0xff, 0xfe]));
      unary.end();
      expect((await unary.status).code).toBe(S.INVALID_ARGUMENT);
      return { sent: 21, refused: 20, stored: nodeCount() - LEGIT.length, counted: { [REJECT_REASONS.undecodable]: 20 } };
    });
  });

  it("a backtracking glob answers at once; over-long query fields answer INVALID_ARGUMENT", async () => {
    await underAttack("glob_backtracking", async () => {
      const query = createClient(QueryService, collector.grpcAddress, grpc.credentials.createInsecure());
      try {
        const started = performance.now();
        const { nodes } = await query.listNodes(create(ListNodesRequestSchema, { nodeGlob: "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b" }));
        expect(performance.now() - started).toBeLessThan(100);
        expect(nodes).toEqual([]);
        const refusals = await Promise.all([
          query.listNodes(create(ListNodesRequestSchema, { nodeGlob: "*a".repeat(200) })).catch((e: grpc.ServiceError) => e),
          query.getNode(create(GetNodeRequestSchema, { nodeId: "x".repeat(64) })).catch((e: grpc.ServiceError) => e),
          query.listEvents(create(ListEventsRequestSchema, { limit: 1_000_000 })).catch((e: grpc.ServiceError) => e),
        ]);
        expect(refusals.map((r) => (r as grpc.ServiceError).code)).toEqual([S.INVALID_ARGUMENT, S.INVALID_ARGUMENT, S.INVALID_ARGUMENT]);
        expect((refusals[0] as grpc.ServiceError).details).toMatch(/node_glob is longer than 256/);
        return { sent: 4, refused: 3, stored: 0, counted: { [REJECT_REASONS.invalidQuery]: 3 } };
      } finally {
        query.close();
      }
    });
  });

  it("streams: one address gets at most 256 open streams, one node id at most 2; the rest RESOURCE_EXHAUSTED at once", async () => {
    const attempts = 2000;
    await underAttack("streams_per_peer", async () => {
      const attackers = Array.from({ length: 4 }, () => peer("127.0.0.6"));
      // In waves of 50 every 20 ms (2,000 in 0.8 s): grpc-js builds a call for every
      // stream a socket read announces before any handler can refuse it (~0.1 ms each
      // here), so 2,000 in one read is a pause no handler can bound; HTTP/2's
      // max_concurrent_streams on the server is the layer for that.
      const streams: RawStream[] = [];
      const refusedStatuses: RawStatus[] = [];
      for (let i = 0; i < attempts; i++) {
        const s = attackers[i % attackers.length]!.open();
        streams.push(s);
        void s.status.then((status) => refusedStatuses.push(status));
        if (i % 50 === 49) await sleep(20);
      }
      const deadline = Date.now() + 8000;
      while (refusedStatuses.length < attempts - DEFAULT_LIMITS.streamsPerPeer && Date.now() < deadline) await sleep(50);
      const open = (await scrape(collector.httpAddress)).get("clawfleet_collector_streams");
      expect(open).toBe(DEFAULT_LIMITS.streamsPerPeer + LEGIT.length);
      expect(codes(refusedStatuses)).toEqual({ [S.RESOURCE_EXHAUSTED]: attempts - DEFAULT_LIMITS.streamsPerPeer });
      expect(refusedStatuses[0]!.details).toMatch(/too many open streams from 127\.0\.0\.6 \(limit 256\)/);
      streams.forEach((s) => s.cancel());
      return { sent: attempts, refused: refusedStatuses.length, stored: nodeCount() - LEGIT.length, counted: { [REJECT_REASONS.streamsPerPeer]: attempts - DEFAULT_LIMITS.streamsPerPeer } };
    });
    await underAttack("streams_per_node", async () => {
      const attacker = peer("127.0.0.7");
      const second = attacker.open();
      second.send(hello(LEGIT[1]!));
      while (second.responses.length === 0) await sleep(10);
      const third = attacker.open();
      third.send(hello(LEGIT[1]!));
      const status = await third.status;
      expect(status.code).toBe(S.RESOURCE_EXHAUSTED);
      expect(status.details).toMatch(/already has 2 open streams \(limit 2\)/);
      second.cancel();
      return { sent: 2, refused: 1, stored: 0, counted: { [REJECT_REASONS.streamsPerNode]: 1 } };
    });
  });

  it("report flood: a node past its burst is cut with RESOURCE_EXHAUSTED; what was acknowledged is stored, and its resend after a back-off is taken", async () => {
    const flood = DEFAULT_LIMITS.reportsBurst + 300;
    await underAttack("report_flood", async () => {
      const attacker = peer("127.0.0.8");
      const stream = attacker.open();
      stream.send(hello("flood-1"));
      for (let seq = 1n; seq <= BigInt(flood); seq++) stream.send(report(seq));
      const status = await stream.status;
      expect(status.code).toBe(S.RESOURCE_EXHAUSTED);
      expect(status.details).toMatch(/sends reports too fast/);
      expect(stream.acks.length).toBeGreaterThanOrEqual(DEFAULT_LIMITS.reportsBurst);
      expect(stream.acks.length).toBeLessThan(DEFAULT_LIMITS.reportsBurst + 10);
      // The agent backs off, reconnects, learns what the collector holds and resends from there.
      await sleep(1100);
      const again = attacker.open();
      again.send(hello("flood-1"));
      while (again.responses.length === 0) await sleep(10);
      const welcome = again.responses[0]!;
      expect(welcome.message.case === "welcome" && welcome.message.value.lastAckedSeq).toBe(stream.acks.at(-1));
      const next = stream.acks.at(-1)! + 1n;
      again.send(report(next));
      while (again.acks.length === 0) await sleep(10);
      expect(again.acks).toEqual([next]);
      again.cancel();
      const acked = [...stream.acks, ...again.acks];
      const stored = storedSeqs("flood-1");
      expect(stored).toEqual(acked);
      return { sent: flood + 1, refused: 1, stored: stored.length, counted: { [REJECT_REASONS.reportRate]: 1 } };
    });
  });

  it("ghost nodes: hello floods from one address and from many are refused before any node, event or silence exists", async () => {
    const nodesBefore = nodeCount();
    const accepted: string[] = [];
    const refusedIds: string[] = [];
    const tally = async (attempts: { id: string; stream: RawStream }[]) => {
      const statuses: RawStatus[] = [];
      await Promise.all(
        attempts.map(async ({ id, stream }) => {
          const done = await Promise.race([stream.status, (async () => { while (stream.responses.length === 0) await sleep(10); return undefined; })()]);
          if (done) {
            refusedIds.push(id);
            statuses.push(done);
          } else accepted.push(id);
        }),
      );
      return statuses;
    };
    await underAttack("hello_flood", async () => {
      const attacker = peer("127.0.0.4");
      const attempts = Array.from({ length: 100 }, (_, i) => ({ id: `ghost-a-${i}`, stream: attacker.open() }));
      attempts.forEach(({ id, stream }) => stream.send(hello(id)));
      const statuses = await tally(attempts);
      expect(codes(statuses)).toEqual({ [S.RESOURCE_EXHAUSTED]: 100 - DEFAULT_LIMITS.hellosPerPeerBurst });
      return { sent: 100, refused: statuses.length, stored: accepted.length, counted: { [REJECT_REASONS.helloRate]: statuses.length } };
    });
    const acceptedFromOne = accepted.length;
    await underAttack("new_node_flood", async () => {
      // 20 addresses, each under its own hello budget: only the collector-wide new-node limit
      // stops them. An address every 10 ms (2,000 hellos a second), as in the measured flood.
      const attempts: { id: string; stream: RawStream }[] = [];
      for (let a = 0; a < 20; a++) {
        const attacker = peer(`127.0.1.${a + 1}`);
        for (let i = 0; i < 20; i++) {
          const attempt = { id: `ghost-b-${a}-${i}`, stream: attacker.open() };
          attempt.stream.send(hello(attempt.id));
          attempts.push(attempt);
        }
        await sleep(10);
      }
      const statuses = await tally(attempts);
      ghostNodes.push(...accepted);
      const newNodes = accepted.length - acceptedFromOne;
      // The burst, less what legitimate agents and earlier attacks used, plus the refill of a few seconds.
      expect(newNodes).toBeLessThanOrEqual(DEFAULT_LIMITS.newNodesBurst);
      expect(codes(statuses)).toEqual({ [S.RESOURCE_EXHAUSTED]: 400 - newNodes });
      expect(statuses[0]!.details).toMatch(/too many new node ids/);
      return { sent: 400, refused: statuses.length, stored: newNodes, counted: { [REJECT_REASONS.newNodeRate]: statuses.length } };
    });
    await underAttack("invalid_hello", async () => {
      const attacker = peer("127.0.0.5");
      const bad = [
        ...Array.from({ length: 10 }, (_, i) => ({ id: `Ghost C ${i}!`, message: hello(`Ghost C ${i}!`) })),
        ...[8_640_000_000_000_001n, -(2n ** 63n), 1n].map((sentAt, i) => ({ id: `ghost-d-${i}`, message: hello(`ghost-d-${i}`, sentAt) })),
      ];
      const attempts = bad.map(({ id, message }) => {
        const stream = attacker.open();
        stream.send(message);
        return { id, stream };
      });
      const statuses = await tally(attempts);
      expect(codes(statuses)).toEqual({ [S.INVALID_ARGUMENT]: bad.length });
      expect(statuses.at(-1)!.details).toMatch(/hello\.sent_at_unix_ms: .* is not a time between 2000 and 2200/);
      return { sent: bad.length, refused: bad.length, stored: 0, counted: { [REJECT_REASONS.invalidNodeId]: 10, [REJECT_REASONS.invalidTimestamp]: 3 } };
    });
    peers.forEach((p) => p.close());
    await sleep(200);
    // Exactly the admitted ids became nodes; a refused hello left no node, event or silence.
    expect(nodeCount()).toBe(nodesBefore + accepted.length);
    expect(rowsFor("nodes", refusedIds)).toBe(0);
    expect(rowsFor("events", refusedIds)).toBe(0);
    expect(rowsFor("silences", refusedIds)).toBe(0);
    expect(refusedIds.length).toBeGreaterThan(200);
    // The refusals were logged, but a flood of them is not a flood of log lines.
    const refusalLines = collector.process.stderr.split("\n").filter((l) => /rejected agent stream/.test(l));
    expect(refusalLines.some((l) => /reason=new_node_rate/.test(l))).toBe(true);
    expect(refusalLines.filter((l) => /reason=new_node_rate/.test(l)).length).toBeLessThanOrEqual(DEFAULT_LIMITS.logLinesPerMinute);
  });

  it("500 streams reporting flat out: refused past the limits, the admitted ones queue behind a per-turn budget, and /healthz stays prompt", async () => {
    const floodMs = 3000;
    const reasons = [REJECT_REASONS.newNodeRate, REJECT_REASONS.helloRate, REJECT_REASONS.streamsPerNode, REJECT_REASONS.reportRate];
    await underAttack("report_flood_500_streams", async () => {
      const before = await scrape(collector.httpAddress);
      // The node ids the ghost floods were allowed to create (an attacker's own nodes), two
      // streams each (the most a node may have), then fresh ids up to 500 streams; 20
      // addresses, each under its hello budget.
      const ids = [...ghostNodes, ...Array.from({ length: 250 }, (_, i) => `flood500-${i}`)].slice(0, 250);
      const plan: FloodPlan = {
        grpcAddress: collector.grpcAddress,
        streams: Array.from({ length: 500 }, (_, i) => ({ nodeId: ids[i >> 1]!, half: i & 1, address: `127.0.2.${((i >> 1) % 20) + 1}` })),
        floodMs,
      };
      const worker = new Worker(new URL("./flood-worker.ts", import.meta.url), { workerData: plan });
      const outcome = await new Promise<FloodOutcome>((resolve, reject) => (worker.once("message", resolve), worker.once("error", reject)));
      await worker.terminate();
      await sleep(300);
      const after = await scrape(collector.httpAddress);
      const counted = Object.fromEntries(reasons.map((r) => [r, rejected(after, r) - rejected(before, r)]));
      expect(counted[REJECT_REASONS.reportRate]).toBe(outcome.cutForRate);
      expect(outcome.admitted).toBeGreaterThanOrEqual(350);
      const stored = outcome.admittedNodes.reduce((n, nodeId) => n + storedSeqs(nodeId).length, 0);
      // The admitted floods were served too (less than they sent: attacker and collector share this machine's CPU).
      expect(stored).toBeGreaterThan(0);
      const { streams, admitted, reportsSent, refusedAtHello, cutForRate } = outcome;
      console.log(`report_flood_500_streams: ${streams} streams, ${admitted} admitted, ${reportsSent} reports written in ${floodMs} ms`);
      return { sent: streams + reportsSent, refused: refusedAtHello + cutForRate, stored, counted };
    });
  });
});
