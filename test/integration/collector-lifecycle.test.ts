// The collector keeps its fleet across restarts and notices a frozen agent by
// keepalive, not by a missed report interval.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCollectorProcess } from "../helpers/collector.ts";
import { series, waitForMetrics } from "../helpers/metrics.ts";
import { noGateway } from "../helpers/no-gateway.ts";
import { freePort } from "../helpers/ports.ts";
import { runClawfleet, spawnClawfleet, stopAll } from "../helpers/processes.ts";


describe("collector lifecycle", () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-collector-"));
  });
  afterAll(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it("logs one JSON object per line on both sides with --log-format json, for a log shipper", async () => {
    const collector = await startCollectorProcess(join(dir, "json-logs.db"), ["--log-format", "json"]);
    const agent = spawnClawfleet(["agent", "run", "--insecure", "--collector", collector.grpcAddress, "--node-id", "json-01", "--interval", "1s", "--state-dir", join(dir, "json-agent"), "--log-format", "json"], await noGateway(dir));
    await agent.waitFor(/"msg":"report"/);
    await collector.process.waitFor(/"msg":"agent connected"/);
    for (const [who, text] of [["collector", collector.process.stderr], ["agent", agent.stderr]] as const) {
      const records = text.split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(records.length, who).toBeGreaterThan(0);
      for (const record of records) expect(record, who).toMatchObject({ level: expect.stringMatching(/^(debug|info|warn|error)$/), component: who, msg: expect.any(String), time: expect.any(String) });
    }
    expect(agent.stderr).toContain('"node":"json-01"');
    await agent.stop("SIGTERM");
    await collector.process.stop("SIGTERM");
  });

  it("still lists a node after a restart on the same --db", async () => {
    const db = join(dir, "restart.db");
    const first = await startCollectorProcess(db);
    const agent = spawnClawfleet(["agent", "run", "--insecure", "--collector", first.grpcAddress, "--node-id", "mini-01", "--interval", "1s", "--state-dir", join(dir, "a1")], await noGateway(dir));
    await waitForMetrics(first.httpAddress, (s) => (s.get(series("clawfleet_last_report_timestamp_seconds", { node: "mini-01" })) ?? 0) > 0);
    await agent.stop();
    await first.process.stop();

    const second = await startCollectorProcess(db);
    const result = await runClawfleet(["collector", "query", "nodes", "--insecure", "--collector", second.grpcAddress, "--json"]);
    const nodes = JSON.parse(result.stdout).nodes as { id: string; state: string; connected: boolean; last_seq: number; worst_layer: string }[];
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ id: "mini-01", connected: false, state: "unreachable", worst_layer: "gateway" });
    expect(nodes[0]!.last_seq).toBeGreaterThan(0);
    expect(result.code).toBe(1);
    await second.process.stop();
  });

  it("marks a SIGSTOPped agent down within 30 s", async () => {
    const collector = await startCollectorProcess(join(dir, "stop.db"));
    // A long interval: only keepalive can notice the freeze in time.
    const agent = spawnClawfleet(["agent", "run", "--insecure", "--collector", collector.grpcAddress, "--node-id", "frozen", "--interval", "5m", "--state-dir", join(dir, "a2")], await noGateway(dir));
    await waitForMetrics(collector.httpAddress, (s) => s.get(series("clawfleet_node_up", { node: "frozen" })) === 1);
    agent.child.kill("SIGSTOP");
    const { elapsedMs, samples } = await waitForMetrics(collector.httpAddress, (s) => s.get(series("clawfleet_node_up", { node: "frozen" })) === 0, 30_000);
    expect(elapsedMs).toBeLessThan(30_000);
    expect(samples.get(series("clawfleet_node_state", { node: "frozen", state: "unreachable" }))).toBe(1);
    await agent.stop("SIGKILL");
  }, 45_000);

  it("queues reports while the collector is down and delivers them, in order, to the restarted collector", async () => {
    const db = join(dir, "resend.db");
    const address = `127.0.0.1:${await freePort()}`;
    const httpAddress = `127.0.0.1:${await freePort()}`;
    const serve = () => spawnClawfleet(["collector", "serve", "--insecure", "--grpc-listen", address, "--http-listen", httpAddress, "--db", db]);
    const first = serve();
    await first.waitFor(/collector ready/);
    const agent = spawnClawfleet(["agent", "run", "--insecure", "--collector", address, "--node-id", "late", "--interval", "1s", "--state-dir", join(dir, "a3")], await noGateway(dir));
    await agent.waitFor(/connected to collector/);
    await first.stop();
    // Three reports made while nothing listens: they wait, unacknowledged.
    const before = Number((await agent.waitFor(/report seq=(\d+) .*unacked=1\b/))[1]);
    const queued = await agent.waitFor(new RegExp(`report seq=${before + 2} .*unacked=3\\b`), 15_000);
    expect(queued).toBeTruthy();
    const second = serve();
    await second.waitFor(/collector ready/);
    await agent.waitFor(/connected to collector.*\n(.*\n)*.*connected to collector/, 40_000);
    const { samples } = await waitForMetrics(httpAddress, (s) => (s.get(series("clawfleet_collector_reports_total", { outcome: "stored" })) ?? 0) >= 3);
    expect(samples.get(series("clawfleet_node_up", { node: "late" }))).toBe(1);
    const result = await runClawfleet(["collector", "query", "nodes", "--insecure", "--collector", address, "--json"]);
    expect(JSON.parse(result.stdout).nodes[0].last_seq).toBeGreaterThanOrEqual(before + 2);
    const events = await runClawfleet(["collector", "query", "events", "--insecure", "--collector", address, "--node", "late", "--json"]);
    const kinds = (JSON.parse(events.stdout).events as { kind: string }[]).map((e) => e.kind);
    expect(kinds).toContain("silent");
    expect(kinds).toContain("woke");
  }, 60_000);

  it("asks a node that comes back after a silence for a fresh check instead of showing its old report", async () => {
    const db = join(dir, "checknow.db");
    const address = `127.0.0.1:${await freePort()}`;
    const firstHttp = `127.0.0.1:${await freePort()}`;
    const serve = async (http: string) => spawnClawfleet(["collector", "serve", "--insecure", "--grpc-listen", address, "--http-listen", http, "--db", db]);
    const first = await serve(firstHttp);
    await first.waitFor(/collector ready/);
    // A 5-minute interval: without the collector's request, the next report would be minutes away.
    const agent = spawnClawfleet(["agent", "run", "--insecure", "--collector", address, "--node-id", "returning", "--interval", "5m", "--state-dir", join(dir, "a4")], await noGateway(dir));
    await waitForMetrics(firstHttp, (s) => (s.get(series("clawfleet_last_report_timestamp_seconds", { node: "returning" })) ?? 0) > 0);
    await first.stop();
    await new Promise((r) => setTimeout(r, 11_000)); // the last report is now older than 10 s
    const second = await serve(`127.0.0.1:${await freePort()}`);
    await second.waitFor(/collector ready/);
    // The agent's reconnect backoff (full jitter, up to 30 s) decides when it comes back.
    await agent.waitFor(/collector asked for a check reason="reconnected after a silence"/, 40_000);
    await agent.waitFor(/report seq=2 /, 10_000);
  }, 90_000);

  it("delivers reports queued before an agent crash, from its disk spool, once the collector is back", async () => {
    const db = join(dir, "spool.db");
    const address = `127.0.0.1:${await freePort()}`;
    const serve = async () => spawnClawfleet(["collector", "serve", "--insecure", "--grpc-listen", address, "--http-listen", `127.0.0.1:${await freePort()}`, "--db", db]);
    const agentArgs = ["agent", "run", "--insecure", "--insecure", "--collector", address, "--node-id", "crashy", "--interval", "1s", "--state-dir", join(dir, "a5")];
    const env = await noGateway(dir);
    const first = await serve();
    await first.waitFor(/collector ready/);
    const agent = spawnClawfleet(agentArgs, env);
    await agent.waitFor(/connected to collector/);
    await first.stop();
    const queued = Number((await agent.waitFor(/report seq=(\d+) .*unacked=2\b/, 15_000))[1]);
    agent.child.kill("SIGKILL"); // a crash: nothing is flushed on the way out

    const second = await serve();
    await second.waitFor(/collector ready/);
    const restarted = spawnClawfleet(agentArgs, env);
    await restarted.waitFor(/reports from before a restart will be resent count=2/);
    await restarted.waitFor(/connected to collector/, 40_000);
    const result = await runClawfleet(["collector", "query", "node", "crashy", "--insecure", "--collector", address, "--json"]);
    let lastSeq = JSON.parse(result.stdout).last_seq as number;
    for (let i = 0; i < 20 && lastSeq < queued; i++) {
      await new Promise((r) => setTimeout(r, 250));
      lastSeq = JSON.parse((await runClawfleet(["collector", "query", "node", "crashy", "--insecure", "--collector", address, "--json"])).stdout).last_seq;
    }
    expect(lastSeq).toBeGreaterThanOrEqual(queued);
    // The very reports made before the crash are in the store, not just later ones.
    await restarted.stop();
    await second.stop();
    const stored = new DatabaseSync(db, { readOnly: true });
    const seqs = (stored.prepare("SELECT seq FROM reports WHERE node_id = 'crashy'").all() as { seq: number }[]).map((r) => Number(r.seq));
    stored.close();
    expect(seqs).toEqual(expect.arrayContaining([queued - 1, queued]));
  }, 90_000);
});
