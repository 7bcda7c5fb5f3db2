// `clawfleet sim` against a real `collector serve` with mTLS (certificates
// minted from its CA directory), over real gRPC on loopback: every node
// appears, marked simulated, in the states its seeded failure mix says;
// sleepers go silent and show asleep, dropouts unreachable; bad mixes are usage errors; and
// `clawfleet start --demo` brings up a page with a simulated fleet on it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simIngestLimitFlags } from "../../agent/sim/sim-fleet.ts";
import { pkiDirFor } from "../../collector/pki/collector-security.ts";
import { startSimulatedAgent, healthyFindings } from "../helpers/agent-simulator.ts";
import { channelFor, enrollIdentity } from "../helpers/enrollment.ts";
import { parseExposition } from "../helpers/metrics.ts";
import { freePort } from "../helpers/ports.ts";
import { runClawfleet, spawnClawfleet, stopAll, type Spawned } from "../helpers/processes.ts";

interface NodeJson {
  id: string;
  state: string;
  simulated: boolean;
  last_seq: number;
  primary: { code: string } | null;
}

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const count = (nodes: NodeJson[], pick: (n: NodeJson) => string) => nodes.reduce<Record<string, number>>((acc, n) => ((acc[pick(n)] = (acc[pick(n)] ?? 0) + 1), acc), {});

describe("clawfleet sim against a secure collector", () => {
  let dir: string;
  let grpc: string;
  let http: string;
  let db: string;
  let env: NodeJS.ProcessEnv;
  let sims: Spawned[] = [];

  const nodes = async (glob: string): Promise<NodeJson[]> => {
    const result = await runClawfleet(["collector", "query", "nodes", "--json", "--collector", grpc, "--node", glob], env);
    if (result.code !== 0 && result.code !== 1) throw new Error(`query nodes exited ${result.code}: ${result.stderr}`);
    return (JSON.parse(result.stdout) as { nodes: NodeJson[] }).nodes;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-sim-"));
    db = join(dir, "collector", "collector.db");
    grpc = `127.0.0.1:${await freePort()}`;
    http = `127.0.0.1:${await freePort()}`;
    env = { CLAWFLEET_DATA_DIR: join(dir, "data") };
    const collector = spawnClawfleet(["collector", "serve", "--grpc-listen", grpc, "--http-listen", http, "--db", db, ...simIngestLimitFlags(100).split(" ")], env);
    await collector.waitFor(/collector ready/);
    // An operator, as `collector login` leaves one, for `collector query`.
    await enrollIdentity({ pkiDir: pkiDirFor(join(dir, "collector")), address: grpc, name: "ops", role: "operator", dir: join(dir, "data", "operator", "identity") });
  });
  afterAll(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reports 30 nodes over mTLS, each marked simulated, in exactly the seeded mix's states", async () => {
    const sim = spawnClawfleet(
      ["sim", "--nodes", "30", "--collector", grpc, "--db", db, "--seed", "7", "--sleepers", "0", "--dropouts", "0", "--interval", "5s", "--duration", "90s",
        "--failure-mix", "healthy=70,token_mismatch=10,tailscale_needs_login=10,multiple_binaries=10"],
      env,
    );
    sims.push(sim);
    await sim.waitFor(/simulating 30 nodes \(sim-…\) against .* over mTLS, seed 7/);
    expect(sim.stdout).toContain("mix       healthy 21, token_mismatch 3, tailscale_needs_login 3, multiple_binaries 3");
    const fleet = await until("30 simulated nodes reporting", () => nodes("sim-*"), (list) => list.length === 30 && list.every((n) => n.state !== "unreachable"));
    expect(fleet.every((n) => n.simulated)).toBe(true);
    expect(count(fleet, (n) => n.state)).toEqual({ healthy: 21, failing: 6, degraded: 3 });
    expect(count(fleet, (n) => n.primary?.code ?? "none")).toEqual({ none: 21, token_mismatch: 3, tailscale_needs_login: 3, multiple_binaries: 3 });
    // The same seed gives the same nodes the same problems.
    expect(sim.stdout).toMatch(/seed 7/);
    const exposition = await (await fetch(`http://${http}/metrics`)).text();
    expect(() => execFileSync("promtool", ["check", "metrics"], { input: exposition, stdio: ["pipe", "pipe", "pipe"] })).not.toThrow();
    const samples = parseExposition(exposition);
    const simulated = [...samples].filter(([name]) => name.startsWith("clawfleet_node_simulated{"));
    expect(simulated).toHaveLength(30);
    expect(simulated.every(([, value]) => value === 1)).toBe(true);
    // Each report is sent once (acknowledged, never resent on a healthy stream).
    expect(samples.get('clawfleet_collector_reports_total{outcome="duplicate"}') ?? 0).toBe(0);
    // Nothing else gained a label for it.
    expect([...samples.keys()].some((name) => name.includes("simulated=") )).toBe(false);
    const table = await runClawfleet(["collector", "query", "nodes", "--collector", grpc, "--node", "sim-000*"], env);
    expect(table.stdout).toMatch(/^sim-0001 \(sim\) /m);
    const one = await runClawfleet(["collector", "query", "node", "sim-0001", "--collector", grpc], env);
    expect(one.stdout).toMatch(/^[A-Z]+  sim-0001 \(sim\)  \(/m);
    const oneJson = await runClawfleet(["collector", "query", "node", "sim-0001", "--collector", grpc, "--json"], env);
    expect(JSON.parse(oneJson.stdout)).toMatchObject({ id: "sim-0001", simulated: true });
  }, 60_000);

  it("shows sleepers asleep and dropouts unreachable once they go silent, and the others still reporting", async () => {
    const sim = spawnClawfleet(["sim", "--nodes", "8", "--prefix", "nap", "--collector", grpc, "--db", db, "--seed", "3", "--sleepers", "25", "--dropouts", "25", "--sleep-cycle", "4s/1h", "--interval", "2s", "--duration", "90s", "--failure-mix", "healthy=1"], env);
    sims.push(sim);
    await sim.waitFor(/sleepers  2, dropouts 2 \(up 4s, silent 1h\)/);
    const silent = (list: NodeJson[]) => list.filter((n) => n.state === "asleep" || n.state === "unreachable").length;
    const fleet = await until("2 asleep and 2 unreachable", () => nodes("nap-*"), (list) => list.length === 8 && silent(list) === 4);
    expect(count(fleet, (n) => n.state)).toEqual({ asleep: 2, unreachable: 2, healthy: 4 });
    expect(count(fleet, (n) => n.primary?.code ?? "none")).toEqual({ silent_asleep: 2, silent_unreachable: 2, none: 4 });
  }, 60_000);

  it("wakes a sleeper on its cycle: it reports again, continuing its sequence", async () => {
    const sim = spawnClawfleet(["sim", "--nodes", "1", "--prefix", "wake", "--collector", grpc, "--db", db, "--sleepers", "100", "--sleep-cycle", "3s/3s", "--interval", "1s", "--duration", "60s"], env);
    sims.push(sim);
    const asleep = await until("the sleeper asleep", () => nodes("wake-*"), (list) => list[0]?.state === "asleep");
    const awake = await until("the sleeper back", () => nodes("wake-*"), (list) => list[0]?.state === "degraded" && list[0].last_seq > asleep[0]!.last_seq);
    // Awake, a host that may sleep says so.
    expect(awake[0]!.primary?.code).toBe("sleep_enabled");
  }, 40_000);

  it("refuses a bad --failure-mix naming the entry (exit 2), and a --db with no collector CA (exit 1)", async () => {
    const typo = await runClawfleet(["sim", "--nodes", "5", "--failure-mix", "healthy=80,tokn_mismatch=5"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(`--failure-mix entry "tokn_mismatch=5": "tokn_mismatch" is not a reason code`);
    const collectorCode = await runClawfleet(["sim", "--nodes", "5", "--failure-mix", "healthy=9,clock_skew=1"]);
    expect(collectorCode.code).toBe(2);
    expect(collectorCode.stderr).toContain("clock_skew is found by the collector across the fleet");
    const noCa = await runClawfleet(["sim", "--nodes", "2", "--collector", grpc, "--db", join(dir, "elsewhere", "collector.db")]);
    expect(noCa.code).toBe(1);
    expect(noCa.stderr).toMatch(/no collector CA in .*elsewhere.*pki/);
  });

  it("never speaks for a real node: an id the store holds as a real host stops it before it mints or connects", async () => {
    const identity = await enrollIdentity({ pkiDir: pkiDirFor(join(dir, "collector")), address: grpc, name: "mini-0002", dir: join(dir, "mini-0002") });
    const real = startSimulatedAgent({ collector: grpc, nodeId: "mini-0002", maySleep: false, findings: healthyFindings(), channel: channelFor(identity) });
    await real.connected;
    await until("the real node stored", () => nodes("mini-*"), (list) => list.length === 1);
    real.stop();
    const refused = await runClawfleet(["sim", "--nodes", "3", "--prefix", "mini", "--collector", grpc, "--db", db], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`mini-0002 is a real node in ${db}: a simulated node must not speak for it; choose another --prefix`);
    expect((await nodes("mini-*")).map((n) => [n.id, n.simulated])).toEqual([["mini-0002", false]]);
  });

  it("stops by itself after --duration", async () => {
    for (const sim of sims) expect(await Promise.race([sim.exited, new Promise((r) => setTimeout(() => r("running"), 100))])).toBe("running");
    const short = spawnClawfleet(["sim", "--nodes", "2", "--prefix", "brief", "--collector", grpc, "--db", db, "--duration", "2s"], env);
    expect(await short.exited).toBe(0);
    sims = [];
  }, 30_000);
});

describe("clawfleet start --demo", () => {
  let dir: string;
  afterAll(async () => {
    await stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("brings up the collector, this host's agent and the simulated nodes, all on the page", async () => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-demo-"));
    const grpc = `127.0.0.1:${await freePort()}`;
    const http = `127.0.0.1:${await freePort()}`;
    // No gateway on this host: the agent reports not_running, as `npm start` on a bare machine does.
    const env = { HOME: dir, CLAWFLEET_DATA_DIR: join(dir, "data"), OPENCLAW_STATE_DIR: join(dir, ".openclaw"), OPENCLAW_GATEWAY_PORT: String(await freePort()), CLAWFLEET_NODE_ID: "demo-host" };
    const start = spawnClawfleet(["start", "--grpc-listen", grpc, "--http-listen", http, "--demo", "12"], env);
    await start.waitFor(/clawfleet is running: a collector and an agent for .*, and 12 simulated nodes/);
    const query = async () => {
      const result = await runClawfleet(["collector", "query", "nodes", "--insecure", "--json", "--collector", grpc], env);
      return (JSON.parse(result.stdout) as { nodes: NodeJson[] }).nodes;
    };
    const fleet = await until("13 nodes", query, (list) => list.length === 13);
    expect(fleet.filter((n) => n.simulated).map((n) => n.id).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `sim-${String(i + 1).padStart(4, "0")}`));
    expect(fleet.filter((n) => !n.simulated)).toHaveLength(1);
    const page = await (await fetch(`http://${http}/`)).text();
    for (let i = 1; i <= 12; i++) expect(page).toContain(`sim-${String(i).padStart(4, "0")}`);
  }, 60_000);

  it("refuses a --demo that is not a node count", async () => {
    const result = await runClawfleet(["start", "--demo", "lots"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--demo must be a whole number from 1 to 10000, got "lots"`);
  });
});
