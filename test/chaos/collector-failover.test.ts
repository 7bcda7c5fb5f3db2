// Several collectors: a real `agent run --collector A,B` against real
// `collector serve --insecure` processes (each its own SQLite file, as two
// collectors of one fleet look to an agent). The agent reports to the
// collector its node prefers; when that one is killed it moves to the other
// within a bound, stays there when the first comes back (no flapping), returns
// to its first choice only when it must reconnect, and no report is lost: what
// was spooled while no collector answered arrives, and a report one collector
// acknowledged never goes to another. A collector that answers with the
// try-elsewhere status (shared/try-elsewhere.ts) is left at once.
import * as grpc from "@grpc/grpc-js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { AgentService, type ConnectRequest, type ConnectResponse } from "../../shared/gen/clawfleet/v1/agent_pb.ts";
import { addService } from "../../shared/grpc-adapter.ts";
import { orderCollectors } from "../../shared/collector-order.ts";
import { TRY_ELSEWHERE_REASONS, tryElsewhereStatus } from "../../shared/try-elsewhere.ts";
import { startCollectorProcess, type TestCollector } from "../helpers/collector.ts";
import { runClawfleet, stopAll, type Spawned } from "../helpers/processes.ts";
import { expectDeliveredOnce, madeSeqs, spawnAgent, spooledSeqs, storedReports, until, type StoredRow } from "./agent-process.ts";

/** Kill -9 of the collector a node reports to (its kernel resets the connection) → welcomed by the next. */
const MOVE_BOUND_MS = 3000;
/** A collector that stops answering without closing (a host that hangs or loses power): keepalive 10 s + 5 s, then the move. */
const SILENT_MOVE_BOUND_MS = 20_000;

/** A node id whose first choice among `addresses` is `first` (the order is rendezvous hashing of the id). */
function nodePreferring(addresses: string[], first: string, prefix: string): string {
  const targets = addresses.map((address) => ({ address, priority: 0, weight: 1 }));
  for (let i = 0; ; i++) if (orderCollectors(targets, `${prefix}-${i}`)[0] === first) return `${prefix}-${i}`;
}

const welcomesFrom = (agent: Spawned, address: string) => agent.stderr.split("\n").filter((line) => line.includes("connected to collector") && line.includes(`collector=${address} `)).length;
const seqs = (rows: StoredRow[]) => new Set(rows.map((r) => r.seq));

/**
 * Kills a collector while the agent is frozen, so the spool read right after is
 * exactly what this collector left unacknowledged: the reports it acknowledged
 * are those it stored and the spool no longer holds.
 */
async function killWhileFrozen(agent: Spawned, collector: TestCollector, db: string, state: string, node: string): Promise<{ acked: Set<bigint>; resumedAtMs: number }> {
  agent.child.kill("SIGSTOP");
  collector.process.child.kill("SIGKILL");
  await collector.process.exited;
  const spooled = spooledSeqs(state, node);
  const acked = new Set([...seqs(storedReports(db, node))].filter((seq) => !spooled.has(seq)));
  agent.child.kill("SIGCONT");
  return { acked, resumedAtMs: Date.now() };
}

describe("chaos: an agent with several collectors", () => {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-failover-"));
  afterEach(() => stopAll());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("moves when its collector is killed, does not flap back, returns on a reconnect, and loses or repeats no report", async () => {
    const dbA = join(dir, "a.db");
    const dbB = join(dir, "b.db");
    const a = await startCollectorProcess(dbA);
    const b = await startCollectorProcess(dbB);
    const node = nodePreferring([a.grpcAddress, b.grpcAddress], a.grpcAddress, "failover");
    const state = join(dir, "agent");
    const agent = await spawnAgent(`${b.grpcAddress},${a.grpcAddress}`, node, state, dir);

    // 1. It reports to its first choice, whatever the order of the list.
    await agent.waitFor(/report seq=3 /);
    expect(welcomesFrom(agent, a.grpcAddress)).toBe(1);
    expect(welcomesFrom(agent, b.grpcAddress)).toBe(0);

    // 2. A dies: the agent is welcomed by B within the bound, and reports there.
    const first = await killWhileFrozen(agent, a, dbA, state, node);
    await until("the agent to be welcomed by B", () => welcomesFrom(agent, b.grpcAddress) === 1, MOVE_BOUND_MS);
    const moveMs = Date.now() - first.resumedAtMs;
    const madeAtMove = madeSeqs(agent.stderr).at(-1)!;
    await until("a report made after the move to be stored at B", () => seqs(storedReports(dbB, node)).has(madeAtMove + 1n), 5000);
    expect(first.acked.size).toBeGreaterThanOrEqual(2);

    // 3. A is back (same address, same store): the agent stays with B while B works.
    const a2 = await startCollectorProcess(dbA, [], a.grpcAddress);
    const storedAtAWhileAway = storedReports(dbA, node).length;
    const madeBeforeWait = madeSeqs(agent.stderr).length;
    await new Promise((r) => setTimeout(r, 3000));
    expect(madeSeqs(agent.stderr).length).toBeGreaterThanOrEqual(madeBeforeWait + 2);
    expect(welcomesFrom(agent, a.grpcAddress)).toBe(1);
    expect(storedReports(dbA, node)).toHaveLength(storedAtAWhileAway);

    // 4. B dies: the agent must reconnect, and goes back to its first choice.
    const second = await killWhileFrozen(agent, b, dbB, state, node);
    await until("the agent to be welcomed by A again", () => welcomesFrom(agent, a.grpcAddress) === 2, MOVE_BOUND_MS);
    const returnMs = Date.now() - second.resumedAtMs;
    const madeAtReturn = madeSeqs(agent.stderr).at(-1)!;
    await until("a report made after the return to be stored at A", () => seqs(storedReports(dbA, node)).has(madeAtReturn + 1n), 5000);

    // 5. A dies too: nothing answers; reports pile up in the spool, then B comes back and gets them all.
    const third = await killWhileFrozen(agent, a2, dbA, state, node);
    const madeAtGap = madeSeqs(agent.stderr).length;
    await until("two reports made while no collector answers", () => madeSeqs(agent.stderr).length >= madeAtGap + 2, 5000);
    expect(spooledSeqs(state, node).size).toBeGreaterThanOrEqual(2);
    const b2 = await startCollectorProcess(dbB, [], b.grpcAddress);
    const gapEndedMs = Date.now();
    const stored = () => [...storedReports(dbA, node), ...storedReports(dbB, node)];
    await until("every report made to be stored at A or B", () => {
      const all = seqs(stored());
      return madeSeqs(agent.stderr).every((seq) => all.has(seq));
    }, 20_000);
    const drainMs = Date.now() - gapEndedMs;
    await agent.stop();

    // No seq lost: every report made is stored at one of them or still spooled, each once.
    const made = madeSeqs(agent.stderr);
    const atA = storedReports(dbA, node);
    const atB = storedReports(dbB, node);
    expectDeliveredOnce([...atA, ...atB], made, spooledSeqs(state, node));
    // What one collector acknowledged never went to the other.
    expect([...seqs(atB)].filter((seq) => first.acked.has(seq) || third.acked.has(seq))).toEqual([]);
    expect([...seqs(atA)].filter((seq) => second.acked.has(seq))).toEqual([]);
    // And each store has its share: A the first reports and those after the return, B the ones between and after the gap.
    expect(atA.length).toBeGreaterThanOrEqual(3);
    expect(atB.length).toBeGreaterThanOrEqual(4);

    // `collector query` at the collector now holding the node: its last seq is the agent's last report.
    const query = await runClawfleet(["collector", "query", "nodes", "--json", "--insecure", "--collector", b2.grpcAddress]);
    const row = (JSON.parse(query.stdout) as { nodes: { id: string; last_seq: number }[] }).nodes.find((n) => n.id === node);
    expect(BigInt(row!.last_seq)).toBe(made.filter((seq) => seqs(atB).has(seq)).at(-1));
    console.log(`failover: move after kill -9 ${moveMs} ms, return to the first choice ${returnMs} ms, all spooled reports stored ${drainMs} ms after a collector came back (${made.length} reports, ${atA.length} at A, ${atB.length} at B)`);
  }, 60_000);

  it("moves on when its collector stops answering without closing the connection (a hung host), within the keepalive window", async () => {
    const a = await startCollectorProcess(join(dir, "hung-a.db"));
    const b = await startCollectorProcess(join(dir, "hung-b.db"));
    const node = nodePreferring([a.grpcAddress, b.grpcAddress], a.grpcAddress, "hung");
    const state = join(dir, "hung-agent");
    const agent = await spawnAgent(`${a.grpcAddress},${b.grpcAddress}`, node, state, dir);
    await agent.waitFor(/report seq=2 /);
    a.process.child.kill("SIGSTOP");
    const stoppedMs = Date.now();
    await until("the agent to be welcomed by B", () => welcomesFrom(agent, b.grpcAddress) === 1, SILENT_MOVE_BOUND_MS + 2000);
    const moveMs = Date.now() - stoppedMs;
    const made = madeSeqs(agent.stderr).at(-1)!;
    await until("the reports made while A hung to be stored at B", () => {
      const atB = seqs(storedReports(join(dir, "hung-b.db"), node));
      return [...Array(Number(made) - 2).keys()].every((i) => atB.has(BigInt(i + 3)));
    }, 5000);
    expect(moveMs).toBeLessThan(SILENT_MOVE_BOUND_MS);
    console.log(`failover: move from a hung collector ${moveMs} ms`);
  }, 45_000);

  it("leaves at once a collector that answers with the try-elsewhere status, and does not go back to it while the next one works", async () => {
    const refusals: number[] = [];
    const server = new grpc.Server();
    addService(server, AgentService, {
      connect(stream: grpc.ServerDuplexStream<ConnectRequest, ConnectResponse>) {
        stream.on("data", (message: ConnectRequest) => {
          if (message.message.case !== "hello") return;
          refusals.push(Date.now());
          stream.emit("error", tryElsewhereStatus(TRY_ELSEWHERE_REASONS.nodeHeld, `node ${message.message.value.node?.nodeId} is held by another collector`));
        });
        stream.on("error", () => {});
      },
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
    try {
      const refuser = `127.0.0.1:${port}`;
      const b = await startCollectorProcess(join(dir, "refused-b.db"));
      const node = nodePreferring([refuser, b.grpcAddress], refuser, "refused");
      const agent = await spawnAgent(`${refuser},${b.grpcAddress}`, node, join(dir, "refused-agent"), dir);
      await until("the agent to be welcomed by B", () => welcomesFrom(agent, b.grpcAddress) === 1, 10_000);
      const welcomedMs = Date.now();
      expect(refusals).toHaveLength(1);
      const moveMs = welcomedMs - refusals[0]!;
      expect(moveMs).toBeLessThan(1000);
      expect(agent.stderr).toMatch(new RegExp(`collector sends this node to another collector collector=${refuser} reason=node-held`));
      expect(agent.stderr).not.toMatch(/cannot reach the collector/);
      await agent.waitFor(/report seq=3 /);
      expect(refusals).toHaveLength(1);
      console.log(`failover: move after a try-elsewhere refusal ${moveMs} ms (refusal to welcome, including the connection to B)`);
    } finally {
      server.forceShutdown();
    }
  }, 30_000);

  // Every rule of the list is in test/unit/collector-list.test.ts; here, that each command applies it.
  it("refuses a bad --collector list with an error naming the flag", async () => {
    const state = join(dir, "bad-agent");
    const run = ["agent", "run", "--insecure", "--node-id", "bad", "--state-dir", state];
    for (const [command, list, message] of [
      [run, "127.0.0.1:4317,,127.0.0.1:4318", /--collector: empty entry \(entry 2 of 3\)/],
      [run, Array.from({ length: 17 }, (_, i) => `127.0.0.1:${4000 + i}`).join(","), /--collector: at most 16 collectors, got 17/],
      [["sim", "--nodes", "1", "--insecure"], "127.0.0.1:4317,127.0.0.1:4317", /--collector: "127.0.0.1:4317" is listed twice/],
      [["agent", "enroll", "--token", "cfenroll1.x.y", "--state-dir", state], "127.0.0.1:4317,", /--collector: empty entry \(entry 2 of 2\)/],
    ] as const) {
      const result = await runClawfleet([...command, "--collector", list]);
      expect(result.code, `${command.join(" ")} --collector ${list}`).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  }, 30_000);
});
