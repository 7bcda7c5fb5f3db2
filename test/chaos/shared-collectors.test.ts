// Three `collector serve` processes on one real PostgreSQL, each with its own simulated agents
// (the real protocol over gRPC, --insecure on loopback so the load generator's hundreds of nodes need
// no certificates; mTLS across collectors is shared-collectors-mtls.test.ts). Each node is held by one
// collector; another refuses it.
// Then the leader is killed with SIGKILL: its nodes' agents go to a survivor, which takes them at
// once (the dead collector's presence lock went with its connection), and a survivor leads.
// Nothing acknowledged is lost, nothing is stored twice, no node shows twice in /metrics.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fleetFromOneAddress, startLoad, type LoadRun } from "../helpers/load-generator.ts";
import { scrape, type Samples } from "../helpers/metrics.ts";
import { freePort } from "../helpers/ports.ts";
import { runClawfleet, spawnClawfleet, stopAll, type Spawned } from "../helpers/processes.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { startPrometheus } from "../helpers/prometheus.ts";
import { alertRuleGroups } from "../../deploy/generate/alert-rules.ts";
import { collectorRuleGroups } from "../../deploy/generate/collector-alerts.ts";
import { prometheusConfig } from "../../deploy/generate/prometheus-config.ts";
import { toYaml, type YamlValue } from "../../deploy/generate/yaml.ts";
import { fleetOverview } from "../../deploy/generate/dashboards/fleet-overview.ts";
import { nodeDetail } from "../../deploy/generate/dashboards/node-detail.ts";
import { dashboardPanels, interpolate, metricNames, type DashboardJson } from "../../test/deploy/dashboard-queries.ts";

const PER_COLLECTOR = 100;
/** The collectors' default keepalive (5 s + 5 s): a node's lease lives that long without renewal. */
const KEEPALIVE_WINDOW_MS = 10_000;

interface Collector {
  name: string;
  grpcAddress: string;
  httpAddress: string;
  process: Spawned;
}

let server: TestPostgres;
let url: string;
const collectors: Collector[] = [];
const loads: LoadRun[] = [];

async function startCollector(name: string): Promise<Collector> {
  const grpcAddress = `127.0.0.1:${await freePort()}`;
  const httpAddress = `127.0.0.1:${await freePort()}`;
  const process = spawnClawfleet(
    ["collector", "serve", "--insecure", "--grpc-listen", grpcAddress, "--http-listen", httpAddress, "--db", url, ...fleetFromOneAddress(PER_COLLECTOR * 3)],
    { PGPASSWORD: server.password },
  );
  await process.waitFor(/collector ready/, 30_000);
  return { name, grpcAddress, httpAddress, process };
}

/** Node ids in clawfleet_node_up, per collector: who speaks for which node. */
function exposedNodes(samples: Samples): string[] {
  return [...samples.keys()].flatMap((key) => /^clawfleet_node_up\{node="([^"]+)"\}$/.exec(key)?.[1] ?? []);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every node exposed exactly once across these collectors; the exposition of each, when so. */
async function exposedOnce(among: Collector[], expected: number): Promise<Map<string, string> | undefined> {
  const owner = new Map<string, string>();
  for (const c of among) {
    for (const node of exposedNodes(await scrape(c.httpAddress))) {
      if (owner.has(node)) return undefined;
      owner.set(node, c.name);
    }
  }
  return owner.size === expected ? owner : undefined;
}

async function leaders(among: Collector[]): Promise<string[]> {
  const out: string[] = [];
  for (const c of among) if ((await scrape(c.httpAddress)).get("clawfleet_collector_leader") === 1) out.push(c.name);
  return out;
}

beforeAll(async () => {
  server = await startPostgres();
  url = await server.createDatabase();
  // One after the other: the first one up leads.
  for (const name of ["c0", "c1", "c2"]) collectors.push(await startCollector(name));
}, 120_000);

afterAll(async () => {
  for (const load of loads) load.stop();
  await stopAll();
  await server?.stop();
});

describe("several collectors on one PostgreSQL", () => {
  it("holds each node on one collector; another refuses it with UNAVAILABLE, naming the holder; every node is in one /metrics (and once in the real Prometheus scraping all three, with the shipped rules and dashboards, and in a remote-write receiver), and every collector answers for the whole fleet", async () => {
    for (const [i, c] of collectors.entries()) loads.push(startLoad({ collector: c.grpcAddress, nodes: PER_COLLECTOR, ratePerNode: 1, inflight: 4, nodePrefix: `c${i}`, channels: 2 }));
    await Promise.all(loads.map((l) => l.welcomed));

    const intruder = startLoad({ collector: collectors[1]!.grpcAddress, nodes: 5, ratePerNode: 1, nodePrefix: "c0", tolerateRefusals: true, channels: 1 });
    await intruder.welcomed;
    intruder.stop();
    expect(intruder.notWelcomed).toBe(5);
    expect([...intruder.errorKinds.keys()].every((k) => /^UNAVAILABLE: node c0-\d+ reports to collector \S+, which holds its lease/.test(k))).toBe(true);
    // With the try-elsewhere trailer: a real agent moves to the next collector at once instead of backing off.
    expect([...intruder.errorKinds.keys()].every((k) => k.endsWith("[try elsewhere: node-held]"))).toBe(true);

    const owner = await until("every node exposed once", () => exposedOnce(collectors, PER_COLLECTOR * 3), 15_000);
    for (const [node, name] of owner) expect(node.startsWith(name), `${node} exposed by ${name}`).toBe(true);
    expect(await leaders(collectors)).toEqual(["c0"]);

    // `collector query` of any collector: the whole fleet, each node once, connected (others' nodes are read back every 2 s).
    const nodes = await until("a collector to list the whole fleet", async () => {
      const { stdout, code } = await runClawfleet(["collector", "query", "nodes", "--insecure", "--json", "--collector", collectors[2]!.grpcAddress]);
      expect(code).toBe(1); // the load's every fifth node is degraded (multiple_binaries): exit 1 says so
      const nodes = (JSON.parse(stdout) as { nodes: { id: string; connected: boolean }[] }).nodes;
      return nodes.length === PER_COLLECTOR * 3 && nodes.every((n) => n.connected) ? nodes : undefined;
    }, 10_000);
    expect(nodes.map((n) => n.id).sort()).toEqual([...owner.keys()].sort());
    expect(nodes.filter((n) => !n.connected).map((n) => n.id)).toEqual([]);
    // A node another collector holds, with its history read from the store (events, credentials).
    const detail = await runClawfleet(["collector", "query", "node", "c0-00005", "--insecure", "--json", "--collector", collectors[2]!.grpcAddress]);
    const node = JSON.parse(detail.stdout) as { events: { kind: string }[]; credentials: unknown[] };
    expect(node.events.map((e) => e.kind)).toContain("connect");
    expect(node.credentials).toHaveLength(1);

    // The real Prometheus scraping all three with the shipped rules: each node once in the merged view, one leader;
    // and, as deploy/prometheus/prometheus-remote-write.example.yml, sending it all by remote write to a long-term
    // store (here a second real Prometheus taking remote write, the protocol Mimir and Thanos Receive take).
    const longTerm = await startPrometheus({ config: toYaml(prometheusConfig({ collectors: [], alertmanagers: [], ruleFiles: [], scrapeIntervalSeconds: 60, evaluationIntervalSeconds: 60 }) as unknown as YamlValue), flags: ["--web.enable-remote-write-receiver"] });
    const prometheus = await startPrometheus({
      config: toYaml(prometheusConfig({ collectors: collectors.map((c) => c.httpAddress), alertmanagers: [], ruleFiles: ["alerts.yml", "collector.yml"], scrapeIntervalSeconds: 1, evaluationIntervalSeconds: 1, externalLabels: { fleet: "test" }, remoteWrite: { url: `${longTerm.url}/api/v1/write` } }) as unknown as YamlValue),
      files: {
        "alerts.yml": toYaml(alertRuleGroups() as unknown as YamlValue),
        "collector.yml": toYaml(collectorRuleGroups() as unknown as YamlValue),
      },
    });
    try {
      await until("Prometheus to see the whole fleet", async () => ((await prometheus.query("count(clawfleet_node_up == 1)"))[0]?.value[1] === String(PER_COLLECTOR * 3) ? true : undefined), 20_000);
      expect(await prometheus.query("count by (node) (clawfleet_node_up) > 1")).toEqual([]);
      expect(await prometheus.query("count by (node) (clawfleet_node_state == 1) > 1")).toEqual([]);
      expect((await prometheus.query("sum(clawfleet_collector_leader)"))[0]?.value[1]).toBe("1");
      // Each collector counts the nodes it speaks for: the sum is the fleet, not three times it.
      expect((await prometheus.query("sum(clawfleet_collector_nodes)"))[0]?.value[1]).toBe(String(PER_COLLECTOR * 3));
      // The shipped rules on the merged view: the degraded fifth of the fleet raises its alerts once per node, whichever collector holds it.
      await until("the rules to raise alerts on the merged view", async () => ((await prometheus.query('count(ALERTS{node=~"c.-.+"})'))[0] ? true : undefined), 20_000);
      expect(await prometheus.query("count by (alertname, alertstate, node) (ALERTS) > 1")).toEqual([]);
      // The shipped dashboards on the merged view: every panel's query evaluates (a node in two collectors' series
      // would break their joins), and each one that reads only metrics the collectors expose shows data.
      const exposed = new Set<string>();
      for (const c of collectors) for (const key of (await scrape(c.httpAddress)).keys()) exposed.add(key.replace(/\{.*$/, ""));
      const panels = [fleetOverview(), nodeDetail()].flatMap((board) => dashboardPanels(board as unknown as DashboardJson).flatMap((panel) => panel.targets.map((t) => ({ title: panel.title, expr: interpolate(t.expr, { node: "c0-00005" }) }))));
      expect(panels.length).toBeGreaterThan(10);
      for (const { title, expr } of panels) {
        const shows = metricNames(expr).every((name) => exposed.has(name));
        const result = await until(`panel "${title}" on the merged view`, async () => {
          const rows = await prometheus.query(expr);
          return !shows || rows.length > 0 ? rows : undefined;
        }, 10_000);
        if (shows) expect(result.length, `${title}: ${expr}`).toBeGreaterThan(0);
      }
      // The long-term store has the merged view as sent: every node, each once, labelled with the sender's fleet.
      await until("the remote-write receiver to hold the whole fleet", async () => ((await longTerm.query('count(clawfleet_node_up{fleet="test"} == 1)'))[0]?.value[1] === String(PER_COLLECTOR * 3) ? true : undefined), 20_000);
      expect(await longTerm.query("count by (node) (clawfleet_node_up) > 1")).toEqual([]);
    } finally {
      await prometheus.stop();
      await longTerm.stop();
    }
    // The page too, from a collector that holds none of c0's nodes.
    const page = await (await fetch(`http://${collectors[1]!.httpAddress}/`)).text();
    expect(page).toContain("c0-00005");
    const nodePage = await fetch(`http://${collectors[1]!.httpAddress}/node/c0-00005`);
    expect(nodePage.status).toBe(200);
    expect(await nodePage.text()).toContain("gateway_token");
  }, 90_000);

  it("kill -9 of the leader: its nodes are taken by a survivor within the keepalive window, a survivor leads, nothing acknowledged is lost or stored twice", async () => {
    const [victim, survivor, other] = collectors as [Collector, Collector, Collector];
    const before = loads[0]!;
    const ackedBefore = [...before.acked.values()].reduce((a, b) => a + b, 0n);
    expect(ackedBefore).toBeGreaterThan(BigInt(PER_COLLECTOR)); // it was reporting

    victim.process.child.kill("SIGKILL");
    const killedAt = Date.now();
    await victim.process.exited;
    const ackedAtKill = new Map(before.acked);
    before.stop();

    // The victim's agents come to a survivor (agents retry; here, a new stream per attempt).
    let mover: LoadRun | undefined;
    for (;;) {
      mover?.stop();
      mover = startLoad({ collector: survivor.grpcAddress, nodes: PER_COLLECTOR, ratePerNode: 1, inflight: 4, nodePrefix: "c0", tolerateRefusals: true, channels: 2 });
      await mover.welcomed;
      if (mover.notWelcomed === 0) break;
      expect(Date.now() - killedAt).toBeLessThan(KEEPALIVE_WINDOW_MS + 5000);
      await new Promise((r) => setTimeout(r, 250));
    }
    loads.push(mover);
    const failoverMs = Date.now() - killedAt;
    console.log(`failover: ${PER_COLLECTOR} nodes of the killed collector held by a survivor ${failoverMs} ms after SIGKILL`);
    expect(failoverMs).toBeLessThan(KEEPALIVE_WINDOW_MS);

    const newLeader = await until("one survivor to lead", async () => {
      const now = await leaders([survivor, other]);
      return now.length === 1 ? now[0] : undefined;
    }, 10_000);
    console.log(`leader after the kill: ${newLeader}, ${Date.now() - killedAt} ms after SIGKILL`);
    await until("every node exposed once by the survivors", () => exposedOnce([survivor, other], PER_COLLECTOR * 3), 15_000);

    // Let the moved nodes report, then stop sending and let the last acks land.
    await new Promise((r) => setTimeout(r, 2000));
    for (const load of loads) load.pause();
    await new Promise((r) => setTimeout(r, 1000));

    const rows = await server.admin(async (client) => {
      const { rows } = await client.query<{ node_id: string; n: string; lo: string; hi: string }>(
        "SELECT node_id, count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM reports GROUP BY node_id",
      );
      return new Map(rows.map((r) => [r.node_id, { n: BigInt(r.n), lo: BigInt(r.lo), hi: BigInt(r.hi) }]));
    }, new URL(url).pathname.slice(1));
    expect(rows.size).toBe(PER_COLLECTOR * 3);
    for (const [node, acked] of ackedAtKill) {
      const stored = rows.get(node)!;
      // Every acknowledged seq is there (1..acked, numbered without gaps), and the survivor went on after it.
      expect(stored.lo, node).toBe(1n);
      expect(stored.hi, node).toBeGreaterThan(acked);
      expect(stored.n, `${node}: each seq once, none missing`).toBe(stored.hi);
      expect(mover.acked.get(node), node).toBe(stored.hi);
    }
    for (const load of [loads[1]!, loads[2]!]) for (const [node, acked] of load.acked) expect(rows.get(node)!.n, node).toBe(acked);
  }, 90_000);

  it("a collector killed with agents that do not come back: the leader calls its nodes unreachable (one open silence each) and exposes them once", async () => {
    const [, c1, c2] = collectors as [Collector, Collector, Collector];
    const leader = (await leaders([c1, c2]))[0];
    const [victim, survivor] = leader === "c1" ? [c2, c1] : [c1, c2];
    const prefix = victim.name;
    loads[Number(prefix.slice(1))]!.stop();
    victim.process.child.kill("SIGKILL");
    const killedAt = Date.now();
    await victim.process.exited;
    const { samples } = await until("the leader to speak for the dead collector's nodes", async () => {
      const samples = await scrape(survivor.httpAddress);
      const silent = exposedNodes(samples).filter((n) => n.startsWith(prefix) && samples.get(`clawfleet_node_up{node="${n}"}`) === 0);
      return silent.length === PER_COLLECTOR ? { samples } : undefined;
    }, 10_000);
    console.log(`dead collector's ${PER_COLLECTOR} nodes unreachable on the leader ${Date.now() - killedAt} ms after SIGKILL`);
    for (const node of exposedNodes(samples).filter((n) => n.startsWith(prefix))) expect(samples.get(`clawfleet_node_state{node="${node}",state="unreachable"}`), node).toBe(1);
    expect(exposedNodes(samples)).toHaveLength(PER_COLLECTOR * 3);
    const open = await server.admin(async (client) => {
      const { rows } = await client.query<{ node_id: string; n: string }>("SELECT node_id, count(*) AS n FROM silences WHERE ended_ms IS NULL AND label = 'unreachable' GROUP BY node_id");
      return new Map(rows.map((r) => [r.node_id, Number(r.n)]));
    }, new URL(url).pathname.slice(1));
    for (let i = 0; i < PER_COLLECTOR; i++) expect(open.get(`${prefix}-${String(i).padStart(5, "0")}`)).toBe(1);
  }, 60_000);

  it("a hung collector (SIGSTOP) keeps its presence: its leases lapse with the keepalive window; woken, it acknowledges nothing more for the nodes it lost and its streams end", async () => {
    const hung = await startCollector("h");
    const taker = await startCollector("t");
    collectors.push(hung, taker);
    const nodes = 10;
    const before = startLoad({ collector: hung.grpcAddress, nodes, ratePerNode: 0, inflight: 4, nodePrefix: "hung", channels: 1 });
    loads.push(before);
    await before.welcomed;
    await new Promise((r) => setTimeout(r, 1000));
    hung.process.child.kill("SIGSTOP");
    const stoppedAt = Date.now();
    let mover: LoadRun | undefined;
    for (;;) {
      mover?.stop();
      mover = startLoad({ collector: taker.grpcAddress, nodes, ratePerNode: 2, inflight: 4, nodePrefix: "hung", tolerateRefusals: true, channels: 1 });
      await mover.welcomed;
      if (mover.notWelcomed === 0) break;
      expect(Date.now() - stoppedAt).toBeLessThan(KEEPALIVE_WINDOW_MS + 5000);
      await new Promise((r) => setTimeout(r, 250));
    }
    loads.push(mover);
    const tookMs = Date.now() - stoppedAt;
    console.log(`hung collector: its ${nodes} nodes taken by another ${tookMs} ms after SIGSTOP (lease TTL ${KEEPALIVE_WINDOW_MS} ms)`);
    // Not before the lease could lapse (the hung one renewed up to a third of the TTL before it stopped).
    expect(tookMs).toBeGreaterThan((KEEPALIVE_WINDOW_MS * 2) / 3 - 500);
    expect(tookMs).toBeLessThan(KEEPALIVE_WINDOW_MS + 2000);

    await new Promise((r) => setTimeout(r, 1000));
    hung.process.child.kill("SIGCONT");
    // Woken, it finds the leases gone (a write refused in its transaction, or the renewal): the old streams end.
    await until("the hung collector's streams to end", async () => (before.errors >= nodes ? true : undefined), 10_000);
    // Told by the lease (UNAVAILABLE), or by the commit the server cut short while it was stopped (INTERNAL): no ack either way.
    console.log(`woken collector ended its streams with: ${[...before.errorKinds].map(([k, n]) => `${n}× ${k}`).join("; ")}`);
    expect([...before.errorKinds.keys()].every((k) => /^(UNAVAILABLE: this collector no longer holds node hung-\d+'s lease|INTERNAL: collector could not store the report)/.test(k)), [...before.errorKinds.keys()].join("; ")).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    mover.pause();
    await new Promise((r) => setTimeout(r, 1000));
    const rows = await server.admin(async (client) => {
      const { rows } = await client.query<{ node_id: string; n: string; hi: string }>("SELECT node_id, count(*) AS n, max(seq) AS hi FROM reports WHERE node_id LIKE 'hung-%' GROUP BY node_id");
      return rows.map((r) => ({ node: r.node_id, n: BigInt(r.n), hi: BigInt(r.hi) }));
    }, new URL(url).pathname.slice(1));
    expect(rows).toHaveLength(nodes);
    for (const row of rows) {
      expect(row.n, `${row.node}: each seq once, none missing`).toBe(row.hi);
      // Whatever the hung one acknowledged is stored, and the taker's last ack is the newest.
      expect(row.hi, row.node).toBeGreaterThanOrEqual(before.acked.get(row.node)!);
      expect(mover.acked.get(row.node), row.node).toBe(row.hi);
    }
  }, 90_000);

  it("clawfleet sim's agents move: refused while another collector holds them, taken once it is killed, their reports numbered on without a gap", async () => {
    const [holder, taker] = collectors.slice(-2) as [Collector, Collector];
    const sim = (collector: Collector) =>
      spawnClawfleet(["sim", "--nodes", "10", "--prefix", "mv", "--insecure", "--collector", collector.grpcAddress, "--interval", "1s", "--sleepers", "0", "--dropouts", "0", "--seed", "3", "--failure-mix", "healthy=100"]);
    sim(holder);
    await until("the first sim's nodes on their collector", async () => {
      const samples = await scrape(holder.httpAddress);
      return exposedNodes(samples).filter((n) => n.startsWith("mv-") && samples.get(`clawfleet_node_up{node="${n}"}`) === 1).length === 10 ? true : undefined;
    }, 20_000);
    await new Promise((r) => setTimeout(r, 2000));
    // The same nodes' agents at the other collector: refused, counted, retried by the agents' own backoff.
    sim(taker);
    await until("the second sim to be refused", async () => ((await scrape(taker.httpAddress)).get('clawfleet_collector_rejected_total{reason="lease_held"}') ?? 0) >= 10 || undefined, 10_000);
    holder.process.child.kill("SIGKILL");
    const killedAt = Date.now();
    await until("the taker to hold every mv node", async () => {
      const samples = await scrape(taker.httpAddress);
      return exposedNodes(samples).filter((n) => n.startsWith("mv-") && samples.get(`clawfleet_node_up{node="${n}"}`) === 1).length === 10 ? true : undefined;
    }, 40_000);
    console.log(`clawfleet sim: 10 nodes reporting through the taker ${Date.now() - killedAt} ms after SIGKILL of their collector (the agents' reconnect backoff included)`);
    await new Promise((r) => setTimeout(r, 2500));
    const rows = await server.admin(async (client) => {
      const { rows } = await client.query<{ node_id: string; n: string; lo: string; hi: string }>("SELECT node_id, count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM reports WHERE node_id LIKE 'mv-%' GROUP BY node_id");
      return rows;
    }, new URL(url).pathname.slice(1));
    expect(rows).toHaveLength(10);
    for (const row of rows) {
      expect(row.lo, row.node_id).toBe("1");
      expect(row.n, `${row.node_id}: each seq once, none missing`).toBe(row.hi);
      expect(Number(row.hi), row.node_id).toBeGreaterThan(3);
    }
  }, 90_000);
});
