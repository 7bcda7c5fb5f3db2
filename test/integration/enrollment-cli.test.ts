// The operator's path, through the real commands: a secure collector, a token
// from `collector enroll`, `agent enroll`, `agent run` with no flags beyond its
// state dir, renewal of a short-lived certificate with no gap in reporting,
// `collector login` + `query`, and `collector revoke` ending the live stream.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/ports.ts";
import { runClawfleet, spawnClawfleet, stopAll, type Spawned } from "../helpers/processes.ts";
import { series, waitForMetrics } from "../helpers/metrics.ts";

const CERT_LIFETIME_S = 6;

describe("enrollment through the CLI", () => {
  let dir: string;
  let grpc: string;
  let http: string;
  let db: string;
  let collector: Spawned;
  let agent: Spawned;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-enroll-"));
    db = join(dir, "collector", "collector.db");
    grpc = `127.0.0.1:${await freePort()}`;
    http = `127.0.0.1:${await freePort()}`;
    // No gateway on this host: the agent reports not_running, which is all this test needs.
    env = { HOME: dir, CLAWFLEET_DATA_DIR: join(dir, "data"), OPENCLAW_STATE_DIR: join(dir, ".openclaw"), OPENCLAW_GATEWAY_PORT: String(await freePort()) };
    collector = spawnClawfleet(["collector", "serve", "--grpc-listen", grpc, "--http-listen", http, "--db", db, "--cert-lifetime", `${CERT_LIFETIME_S}s`], env);
    await collector.waitFor(/collector ready/);
  });
  afterAll(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses to run an agent that is not enrolled, and says how to enroll", async () => {
    const result = await runClawfleet(["agent", "run", "--collector", grpc, "--state-dir", join(dir, "nobody")], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/this host is not enrolled.*clawfleet collector enroll NODE.*clawfleet agent enroll --collector HOST:PORT --token TOKEN/s);
  });

  it("enrolls with a token printed as the only line, then reports as the token's node over mTLS", async () => {
    const made = await runClawfleet(["collector", "enroll", "mini-01", "--db", db], env);
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^cfenroll1\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}\n$/);
    const enrolled = await runClawfleet(["agent", "enroll", "--collector", grpc, "--token", made.stdout.trim(), "--state-dir", join(dir, "agent")], env);
    expect(enrolled.code).toBe(0);
    expect(enrolled.stdout).toMatch(/enrolled as node "mini-01"/);
    agent = spawnClawfleet(["agent", "run", "--state-dir", join(dir, "agent"), "--interval", "1s"], env);
    await waitForMetrics(http, (s) => (s.get(series("clawfleet_last_report_timestamp_seconds", { node: "mini-01" })) ?? 0) > 0);
    expect(agent.stderr).toMatch(/transport=mtls/);
  });

  it("renews the certificate before it expires with no gap in reporting", async () => {
    const enrolledAt = Date.now();
    // Past the first certificate's expiry, with at least one renewal in between.
    await agent.waitFor(/certificate renewed/, CERT_LIFETIME_S * 1000);
    await new Promise((resolve) => setTimeout(resolve, CERT_LIFETIME_S * 1000 - (Date.now() - enrolledAt) + 1500));
    const store = new DatabaseSync(db, { readOnly: true });
    const rows = store.prepare("SELECT seq, received_at_ms FROM reports WHERE node_id = 'mini-01' ORDER BY seq").all() as { seq: number; received_at_ms: number }[];
    store.close();
    expect(rows.length).toBeGreaterThanOrEqual(CERT_LIFETIME_S);
    // Every seq from the first to the last, each stored once, none more than ~2 intervals after the one before.
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => rows[0]!.seq + i));
    const gaps = rows.slice(1).map((r, i) => r.received_at_ms - rows[i]!.received_at_ms);
    expect(Math.max(...gaps)).toBeLessThan(2500);
    expect(collector.stderr).not.toMatch(/reason=expired/);
    expect((agent.stderr.match(/certificate renewed/g) ?? []).length).toBeGreaterThanOrEqual(1);
  });

  it("answers queries only with an operator certificate from `collector login`", async () => {
    const refused = await runClawfleet(["collector", "query", "nodes", "--collector", grpc], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/queries need an operator certificate/);
    const token = (await runClawfleet(["collector", "enroll", "alice", "--operator", "--db", db], env)).stdout.trim();
    const login = await runClawfleet(["collector", "login", "--collector", grpc, "--token", token], env);
    expect(login.code).toBe(0);
    const nodes = await runClawfleet(["collector", "query", "nodes", "--json"], env);
    expect(nodes.code).toBe(1); // mini-01 has no gateway: failing
    expect(nodes.stdout).toContain("mini-01");
  });

  it("`collector revoke` ends the node's live stream within seconds and keeps it out", async () => {
    const revoked = await runClawfleet(["collector", "revoke", "mini-01", "--db", db], env);
    expect(revoked.stdout).toMatch(/revoked [1-9]\d* certificates? of node "mini-01"/);
    const { elapsedMs } = await waitForMetrics(http, (s) => s.get(series("clawfleet_node_up", { node: "mini-01" })) === 0, 5000);
    expect(elapsedMs).toBeLessThan(3000);
    await agent.waitFor(/revoked/, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const { samples } = await waitForMetrics(http, () => true);
    expect(samples.get(series("clawfleet_node_up", { node: "mini-01" }))).toBe(0);
  });
});
