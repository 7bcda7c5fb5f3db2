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
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { AgentService, type ConnectRequest, type ConnectResponse } from "../../shared/gen/clawfleet/v1/agent_pb.ts";
import { addService } from "../../shared/grpc-adapter.ts";
import { orderCollectors } from "../../shared/collector-order.ts";
import { TRY_ELSEWHERE_REASONS, tryElsewhereStatus } from "../../shared/try-elsewhere.ts";
import { startCollectorProcess, type TestCollector } from "../helpers/collector.ts";
import { runClawfleet, spawnClawfleet, stopAll, type Spawned } from "../helpers/processes.ts";
import { freePort } from "../helpers/ports.ts";
import { create } from "@bufbuild/protobuf";
import { CollectorLink } from "../../agent/run/collector-link.ts";
import { CollectorDirectory } from "../../agent/run/collector-choice.ts";
import { SequenceFile } from "../../agent/run/sequence-file.ts";
import { Spool } from "../../agent/run/spool.ts";
import { parseCollectorSpec } from "../../shared/collector-list.ts";
import { NodeIdentitySchema, ReportSchema } from "../../shared/gen/clawfleet/v1/report_pb.ts";
import { createLogger } from "../../shared/log.ts";
import { startFakeDns } from "../fakes/dns-srv-server.ts";
import { noGateway } from "../helpers/no-gateway.ts";
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

  it("over mTLS: enrolls through the first collector of the list that answers, records the list, and reports to each collector, each with its own server certificate, with one agent certificate", async () => {
    // Two collectors of one fleet share its CA and trust store (in a fleet: the shared store);
    // here B gets a copy of A's CA and a snapshot of A's trust store taken after the enrollment,
    // and makes its own server certificate from that CA. Each keeps its own reports.
    const dirA = join(dir, "mtls-a");
    const dirB = join(dir, "mtls-b");
    const serve = async (db: string) => {
      const [grpcAddress, httpAddress] = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
      const process = spawnClawfleet(["collector", "serve", "--grpc-listen", grpcAddress, "--http-listen", httpAddress, "--db", db]);
      await process.waitFor(/collector ready/);
      return { grpcAddress, httpAddress, process };
    };
    const a = await serve(join(dirA, "collector.db"));
    const nobody = `127.0.0.1:${await freePort()}`;
    const bAddress = `127.0.0.1:${await freePort()}`;
    const list = `${nobody},${a.grpcAddress},${bAddress}`;
    const token = (await runClawfleet(["collector", "enroll", "mini-fo", "--db", join(dirA, "collector.db")])).stdout.trim();
    const state = join(dir, "mtls-agent");
    const enrolled = await runClawfleet(["agent", "enroll", "--collector", list, "--token", token, "--state-dir", state]);
    expect(enrolled.stderr).toBe("");
    expect(enrolled.code).toBe(0);
    expect(enrolled.stdout).toContain(`enrolled as node "mini-fo" with the collector at ${a.grpcAddress} (agent run reports to ${list})`);
    expect(readFileSync(join(state, "identity", "collector"), "utf8").trim()).toBe(list);

    mkdirSync(join(dirB, "pki"), { recursive: true, mode: 0o700 });
    for (const file of ["ca.crt", "ca.key"]) copyFileSync(join(dirA, "pki", file), join(dirB, "pki", file));
    const trust = new DatabaseSync(join(dirA, "pki", "trust.db"), { readOnly: true });
    trust.exec(`VACUUM INTO '${join(dirB, "pki", "trust.db")}'`);
    trust.close();
    const bProcess = spawnClawfleet(["collector", "serve", "--grpc-listen", bAddress, "--http-listen", `127.0.0.1:${await freePort()}`, "--db", join(dirB, "collector.db")]);
    await bProcess.waitFor(/collector ready/);
    const b = { grpcAddress: bAddress, process: bProcess };
    expect(readFileSync(join(dirB, "pki", "collector.crt"), "utf8")).not.toBe(readFileSync(join(dirA, "pki", "collector.crt"), "utf8"));

    // No --collector: the recorded list.
    const agent = spawnClawfleet(["agent", "run", "--state-dir", state, "--interval", "1s"], await noGateway(dir));
    const [, first] = (await agent.waitFor(/connected to collector collector=(\S+) /)) as RegExpMatchArray;
    expect([a.grpcAddress, b.grpcAddress]).toContain(first);
    const [holder, other] = first === a.grpcAddress ? [a, b] : [b, a];
    await agent.waitFor(/report seq=2 /);
    holder.process.child.kill("SIGKILL");
    await until("the agent to be welcomed by the other collector", () => welcomesFrom(agent, other.grpcAddress) === 1, MOVE_BOUND_MS);
    const otherDb = join(other === a ? dirA : dirB, "collector.db");
    await until("a report stored at the other collector", () => storedReports(otherDb, "mini-fo").length > 0, 5000);
    expect(agent.stderr).toMatch(/transport=mtls/);
    expect(agent.stderr).not.toMatch(/PERMISSION_DENIED|UNAUTHENTICATED|unknown_certificate/);
  }, 45_000);

  it("follows a DNS SRV record: the collector of the lowest priority first, the next one when it dies, with the spooled reports", async () => {
    const dbA = join(dir, "srv-a.db");
    const dbB = join(dir, "srv-b.db");
    const a = await startCollectorProcess(dbA);
    const b = await startCollectorProcess(dbB);
    const port = (address: string) => Number(address.split(":")[1]);
    // Targets are host names, as in a real zone; "localhost" is 127.0.0.1 in this host's /etc/hosts.
    const dns = await startFakeDns({
      "_clawfleet._tcp.fleet.test": [
        { priority: 20, weight: 1, port: port(b.grpcAddress), target: "localhost" },
        { priority: 10, weight: 1, port: port(a.grpcAddress), target: "localhost" },
      ],
    });
    const lines: string[] = [];
    const sequence = new SequenceFile(join(dir, "srv.seq"));
    const link = new CollectorLink({
      collectors: new CollectorDirectory(parseCollectorSpec("collector", "srv:_clawfleet._tcp.fleet.test"), { lookup: { servers: [dns.server] } }),
      identity: create(NodeIdentitySchema, { nodeId: "srv-node", hostname: "srv-node", platform: "linux", agentVersion: "test" }),
      log: createLogger("agent", { write: (line: string) => lines.push(line) > 0 } as unknown as NodeJS.WritableStream),
      sequence,
      spool: new Spool(join(dir, "srv.spool")),
    });
    const send = () => link.send(create(ReportSchema, { seq: sequence.next(), verdict: "ok", primaryIndex: -1, observedAtUnixMs: BigInt(Date.now()) }));
    try {
      link.start();
      await until("the link to be welcomed", () => link.connected);
      expect(link.collector).toBe(`localhost:${port(a.grpcAddress)}`);
      send();
      send();
      await until("two reports stored at the priority-10 collector", () => storedReports(dbA, "srv-node").length === 2);
      a.process.child.kill("SIGKILL");
      await a.process.exited;
      // Made while the link finds out and moves: spooled, then sent to the next collector.
      send();
      send();
      await until("the link to move to the priority-20 collector", () => link.collector === `localhost:${port(b.grpcAddress)}`, MOVE_BOUND_MS);
      await until("the spooled reports to be stored there", () => storedReports(dbB, "srv-node").length === 2, 5000);
      expect([...seqs(storedReports(dbA, "srv-node")), ...seqs(storedReports(dbB, "srv-node"))]).toEqual([1n, 2n, 3n, 4n]);
      expect(dns.asked.filter((name) => name === "_clawfleet._tcp.fleet.test").length).toBeGreaterThanOrEqual(1);
    } finally {
      link.stop();
      await dns.stop();
    }
  }, 30_000);

  it("`clawfleet sim` spreads its nodes over the list, each on its own first choice", async () => {
    const a = await startCollectorProcess(join(dir, "sim-a.db"));
    const b = await startCollectorProcess(join(dir, "sim-b.db"));
    const env = { CLAWFLEET_DATA_DIR: join(dir, "sim-data") };
    const sim = spawnClawfleet(["sim", "--nodes", "12", "--insecure", "--collector", `${a.grpcAddress},${b.grpcAddress}`, "--interval", "1s", "--sleepers", "0", "--dropouts", "0", "--duration", "30s", "--seed", "5"], env);
    const ids = Array.from({ length: 12 }, (_, i) => `sim-${String(i + 1).padStart(4, "0")}`);
    const targets = [a, b].map((c) => ({ address: c.grpcAddress, priority: 0, weight: 1 }));
    const nodesAt = async (collector: TestCollector) => {
      const result = await runClawfleet(["collector", "query", "nodes", "--json", "--insecure", "--collector", collector.grpcAddress], env);
      return (JSON.parse(result.stdout) as { nodes: { id: string }[] }).nodes.map((n) => n.id).sort();
    };
    const expected = (c: TestCollector) => ids.filter((id) => orderCollectors(targets, id)[0] === c.grpcAddress);
    let seen: string[][] = [];
    const deadline = Date.now() + 15_000;
    do {
      await new Promise((r) => setTimeout(r, 1000));
      seen = [await nodesAt(a), await nodesAt(b)];
    } while (seen[0]!.length + seen[1]!.length < 12 && Date.now() < deadline);
    expect(seen).toEqual([expected(a), expected(b)]);
    expect(expected(a).length).toBeGreaterThan(0);
    expect(expected(b).length).toBeGreaterThan(0);
    await sim.stop();
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
