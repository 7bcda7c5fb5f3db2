// Attacks on identity, replayed against a real mTLS collector on loopback while
// three enrolled agents keep reporting: each attack is refused and counted, no
// legitimate report is lost or stored twice, and /healthz stays fast. Each
// attack prints `attack=… sent= refused= stored= lost= duplicates=` for the
// release note.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCollector, type RunningCollector } from "../../collector/collector.ts";
import { AgentService, ConnectRequestSchema, type ConnectResponse } from "../../shared/gen/clawfleet/v1/agent_pb.ts";
import { ListCredentialsRequestSchema, QueryService } from "../../shared/gen/clawfleet/v1/query_pb.ts";
import { createClient } from "../../shared/grpc-adapter.ts";
import { createLogger } from "../../shared/log.ts";
import type { StoredIdentity } from "../../shared/pki/identity-files.ts";
import { healthyFindings, startSimulatedAgent, type SimulatedAgent } from "../helpers/agent-simulator.ts";
import { channelFor, enrollIdentity } from "../helpers/enrollment.ts";
import { scrape, series } from "../helpers/metrics.ts";
import { PassThrough } from "node:stream";

const ATTEMPTS = 40;

describe("identity attacks on an mTLS collector", () => {
  let dir: string;
  let collector: RunningCollector;
  let legit: { identity: StoredIdentity; agent: SimulatedAgent }[] = [];
  let attacker: StoredIdentity;
  const healthz: number[] = [];
  let probing: NodeJS.Timeout;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-attack-id-"));
    const pkiDir = join(dir, "pki");
    collector = await startCollector({ grpcListen: { host: "127.0.0.1", port: 0 }, httpListen: { host: "127.0.0.1", port: 0 }, dbPath: join(dir, "c.db"), log: createLogger("collector", new PassThrough()) });
    for (const name of ["mini-01", "mini-02", "mini-03"]) {
      const identity = await enrollIdentity({ pkiDir, address: collector.grpcAddress, name, dir: join(dir, name) });
      const agent = startSimulatedAgent({ collector: collector.grpcAddress, nodeId: name, maySleep: false, findings: healthyFindings(), intervalMs: 100, channel: channelFor(identity) });
      legit.push({ identity, agent });
    }
    await Promise.all(legit.map((l) => l.agent.connected));
    attacker = await enrollIdentity({ pkiDir, address: collector.grpcAddress, name: "intruder", dir: join(dir, "intruder") });
    probing = setInterval(async () => {
      const started = performance.now();
      await fetch(`http://${collector.httpAddress}/healthz`);
      healthz.push(performance.now() - started);
    }, 50);
  });
  afterAll(async () => {
    clearInterval(probing);
    for (const l of legit) l.agent.stop();
    await collector.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const rejected = async (reason: string) => (await scrape(collector.httpAddress)).get(series("clawfleet_collector_rejected_total", { reason })) ?? 0;

  /** One stream: hello as `nodeId`, then a report far ahead; resolves with what came back. */
  function attempt(channel: { credentials: grpc.ChannelCredentials; options?: grpc.ClientOptions }, nodeId: string): Promise<{ welcomed: boolean; key: boolean; code?: number }> {
    const client = createClient(AgentService, collector.grpcAddress, channel.credentials, channel.options);
    const stream = client.connect();
    return new Promise((resolve) => {
      let welcomed = false;
      let key = false;
      const finish = (code?: number) => {
        stream.cancel();
        client.close();
        resolve({ welcomed, key, code });
      };
      stream.on("data", (m: ConnectResponse) => {
        if (m.message.case === "welcome") {
          welcomed = true;
          key = m.message.value.fingerprintKey.length > 0;
        }
      });
      stream.on("error", (e: grpc.ServiceError) => finish(e.code));
      stream.on("end", () => finish());
      stream.write(create(ConnectRequestSchema, { message: { case: "hello", value: { node: { nodeId, hostname: "evil", platform: "linux", agentVersion: "x" } } } }));
      stream.write(create(ConnectRequestSchema, { message: { case: "report", value: { seq: 2n ** 62n, verdict: "ok", primaryIndex: -1, observedAtUnixMs: BigInt(Date.now()) } } }));
      setTimeout(() => finish(), 2000);
    });
  }

  /** Stops the legit agents and checks that every acknowledged report is stored once. */
  function storedOnce(): { lost: number; duplicates: number; stored: number } {
    const store = new DatabaseSync(join(dir, "c.db"), { readOnly: true });
    let lost = 0;
    let stored = 0;
    for (const { agent } of legit) {
      const rows = store.prepare("SELECT seq FROM reports WHERE node_id = ? ORDER BY seq").all(agent.nodeId) as { seq: number }[];
      stored += rows.length;
      for (let seq = 1; seq <= Number(agent.ackedSeq); seq++) if (!rows.some((r) => r.seq === seq)) lost++;
    }
    // (node_id, seq) is the primary key: a duplicate would have to be a second row for one seq.
    const duplicates = (store.prepare("SELECT COUNT(*) AS n FROM (SELECT node_id, seq FROM reports GROUP BY node_id, seq HAVING COUNT(*) > 1)").get() as { n: number }).n;
    store.close();
    return { lost, duplicates, stored };
  }

  it("impersonation: an enrolled node saying hello as another node is refused every time, the victim stays its own", async () => {
    const before = await rejected("identity_mismatch");
    const ackedBefore = legit[0]!.agent.ackedSeq;
    const results = [];
    for (let i = 0; i < ATTEMPTS; i++) results.push(await attempt(channelFor(attacker), "mini-01"));
    const refused = results.filter((r) => !r.welcomed && r.code === grpc.status.PERMISSION_DENIED).length;
    expect(refused).toBe(ATTEMPTS);
    expect(await rejected("identity_mismatch")).toBe(before + ATTEMPTS);
    // The victim kept reporting through it, as itself.
    await new Promise((r) => setTimeout(r, 300));
    expect(legit[0]!.agent.ackedSeq).toBeGreaterThan(ackedBefore);
    const { lost, duplicates } = storedOnce();
    const store = new DatabaseSync(join(dir, "c.db"), { readOnly: true });
    const victim = store.prepare("SELECT hostname, last_seq FROM nodes WHERE node_id = 'mini-01'").get() as { hostname: string; last_seq: number };
    store.close();
    expect(victim.hostname).toBe("mini-01.local");
    expect(victim.last_seq).toBeLessThan(10_000);
    console.log(`attack=impersonation sent=${ATTEMPTS} refused=${refused} stored=0 lost=${lost} duplicates=${duplicates}`);
    expect(lost).toBe(0);
    expect(duplicates).toBe(0);
  });

  it("no certificate: no welcome, no fleet key, no credential list", async () => {
    const anonymous = { credentials: grpc.credentials.createSsl(Buffer.from(attacker.caPem)), options: channelFor(attacker).options };
    const results = [];
    for (let i = 0; i < ATTEMPTS; i++) results.push(await attempt(anonymous, "mini-02"));
    expect(results.every((r) => !r.welcomed && !r.key && r.code === grpc.status.UNAUTHENTICATED)).toBe(true);
    const query = createClient(QueryService, collector.grpcAddress, anonymous.credentials, anonymous.options);
    await expect(query.listCredentials(create(ListCredentialsRequestSchema, {}))).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    const asNode = createClient(QueryService, collector.grpcAddress, channelFor(attacker).credentials, channelFor(attacker).options);
    await expect(asNode.listCredentials(create(ListCredentialsRequestSchema, {}))).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    query.close();
    asNode.close();
    const { lost, duplicates } = storedOnce();
    console.log(`attack=no-certificate sent=${ATTEMPTS + 2} refused=${results.length + 2} stored=0 lost=${lost} duplicates=${duplicates}`);
    expect(lost).toBe(0);
  });

  it("kept /healthz under 100 ms throughout", () => {
    expect(healthz.length).toBeGreaterThan(10);
    expect(Math.max(...healthz)).toBeLessThan(100);
  });
});
