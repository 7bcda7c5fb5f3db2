// The walking skeleton end to end: a real OpenClaw gateway, a real collector
// process and real `clawfleet agent run` processes talking gRPC on loopback.
import { readFileSync, readdirSync, rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCollectorProcess, type TestCollector } from "../helpers/collector.ts";
import { series, waitForMetrics } from "../helpers/metrics.ts";
import { createGateway, TEST_PROVIDER_KEY, type TestGateway } from "../helpers/openclaw-gateway.ts";
import { runClawfleet, spawnClawfleet, stopAll, type Spawned } from "../helpers/processes.ts";
import { localFingerprint } from "../../shared/fingerprint.ts";

const TOKEN = "cf-test-gateway-token-7f3a9c1e5b2d4f6a";
const WRONG_TOKEN = "cf-test-wrong-token-0d8e2b4a6c1f3e5d";

describe("agent → collector → /metrics against a real OpenClaw gateway", () => {
  let gateway: TestGateway;
  let collector: TestCollector;
  let dir: string;
  const agents: Spawned[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-skeleton-"));
    [gateway, collector] = await Promise.all([createGateway({ token: TOKEN }), startCollectorProcess(join(dir, "collector.db"))]);
    const agent = (nodeId: string, token: string) =>
      spawnClawfleet(["agent", "run", "--insecure", "--collector", collector.grpcAddress, "--node-id", nodeId, "--interval", "1s", "--state-dir", join(dir, nodeId)], gateway.clientEnv(token));
    agents.push(agent("good-node", TOKEN), agent("bad-token-node", WRONG_TOKEN));
  });

  afterAll(async () => {
    await stopAll();
    await gateway?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows the session layer ok for an agent whose client token the gateway accepts", async () => {
    const { samples } = await waitForMetrics(
      collector.httpAddress,
      (s) => s.get(series("clawfleet_layer_status", { node: "good-node", layer: "session" })) === 0 && s.get(series("clawfleet_layer_status", { node: "good-node", layer: "gateway" })) === 0,
    );
    expect(samples.get(series("clawfleet_node_up", { node: "good-node" }))).toBe(1);
    expect(samples.get(series("clawfleet_layer_status", { node: "good-node", layer: "gateway" }))).toBe(0);
    expect(samples.get(series("clawfleet_node_state", { node: "good-node", state: "healthy" }))).toBe(1);
    expect(samples.get(series("clawfleet_last_report_timestamp_seconds", { node: "good-node" }))).toBeGreaterThan(Date.now() / 1000 - 60);
  });

  it("shows session failing with token_mismatch for an agent whose client token is wrong", async () => {
    const { samples } = await waitForMetrics(
      collector.httpAddress,
      (s) => s.get(series("clawfleet_finding", { node: "bad-token-node", layer: "session", code: "token_mismatch" })) === 1 && s.get(series("clawfleet_layer_status", { node: "bad-token-node", layer: "gateway" })) === 0,
    );
    expect(samples.get(series("clawfleet_layer_status", { node: "bad-token-node", layer: "session" }))).toBe(2);
    expect(samples.get(series("clawfleet_layer_status", { node: "bad-token-node", layer: "gateway" }))).toBe(0);
    expect(samples.get(series("clawfleet_node_state", { node: "bad-token-node", state: "failing" }))).toBe(1);
  });

  it("lists both nodes with their worst layer through `collector query nodes`", async () => {
    const result = await runClawfleet(["collector", "query", "nodes", "--insecure", "--collector", collector.grpcAddress, "--json"]);
    expect(result.code).toBe(1); // something is failing
    const nodes = JSON.parse(result.stdout).nodes as { id: string; state: string; worst_layer: string | null; primary: { code: string } | null; findings: { code: string }[]; last_report_age_seconds: number }[];
    const byId = Object.fromEntries(nodes.map((n) => [n.id, n]));
    // Two agents watching one gateway send the same keyed fingerprints: the
    // collector sees one gateway token and one provider key on two nodes.
    expect(byId["good-node"]).toMatchObject({ state: "healthy", worst_layer: "fleet" });
    expect(new Set(byId["good-node"]!.findings.map((f) => f.code))).toEqual(new Set(["token_shared"]));
    expect(byId["bad-token-node"]).toMatchObject({ state: "failing", worst_layer: "session", primary: { code: "token_mismatch" } });
    expect(byId["good-node"]!.last_report_age_seconds).toBeLessThan(30);

    const table = await runClawfleet(["collector", "query", "nodes", "--insecure", "--collector", collector.grpcAddress]);
    expect(table.stdout).toMatch(/^NODE\s+STATE\s+LAYER\s+CODE\s+LAST REPORT\s+NEXT ACTION$/m);
    expect(table.stdout).toMatch(/^bad-token-node\s+failing\s+session\s+token_mismatch\s+\d+s\s+The token clients use/m);
    // Failing nodes come first.
    expect(table.stdout.indexOf("bad-token-node")).toBeLessThan(table.stdout.indexOf("good-node"));
  });

  it("`agent check --json` prints clawfleet.check.v1 and exits 0 on the healthy gateway, 2 on a wrong token", async () => {
    const healthy = await runClawfleet(["agent", "check", "--json", "--node-id", "mini-01"], gateway.clientEnv());
    expect(healthy.code).toBe(0);
    const doc = JSON.parse(healthy.stdout);
    expect(doc).toMatchObject({ schema: "clawfleet.check.v1", node: { id: "mini-01", platform: process.platform }, verdict: "ok", primary: null });
    const session = doc.findings.find((f: { layer: string }) => f.layer === "session");
    expect(session).toMatchObject({ check: "session", status: "ok", code: null, evidence: { source: "env OPENCLAW_GATEWAY_TOKEN", fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{12}$/) } });

    const wrong = await runClawfleet(["agent", "check"], gateway.clientEnv(WRONG_TOKEN));
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toMatch(/^FAIL /);
    expect(wrong.stdout).toMatch(/Primary: session \/ token_mismatch/);
    expect(wrong.stdout + wrong.stderr).not.toContain(WRONG_TOKEN);
    expect(wrong.stdout).toContain("sha256:");
  });

  it("shows the gateway layer failing once the gateway stops, and hides the session check behind it", async () => {
    await gateway.stop();
    const { samples } = await waitForMetrics(collector.httpAddress, (s) => s.get(series("clawfleet_finding", { node: "good-node", layer: "gateway", code: "not_running" })) === 1);
    expect(samples.get(series("clawfleet_layer_status", { node: "good-node", layer: "gateway" }))).toBe(2);
    // Session was not tested (skipped), so it has no status of its own.
    expect(samples.has(series("clawfleet_layer_status", { node: "good-node", layer: "session" }))).toBe(false);
  });

  it("never prints, logs, sends or stores a token, only fingerprints", async () => {
    await stopAll();
    const secrets = [TOKEN, WRONG_TOKEN, TEST_PROVIDER_KEY];
    const outputs = agents.map((a) => a.stdout + a.stderr).join("\n") + collector.process.stdout + collector.process.stderr;
    expect(outputs).toMatch(/report seq=\d+/); // we are scanning real output
    for (const secret of secrets) expect(outputs).not.toContain(secret);
    // Every byte the collector stored (database, WAL) came over the wire.
    const stored = readdirSync(dir).filter((f) => f.startsWith("collector.db")).map((f) => readFileSync(join(dir, f)));
    expect(stored.length).toBeGreaterThan(0);
    for (const bytes of stored) for (const secret of secrets) expect(bytes.includes(secret)).toBe(false);
    expect(Buffer.concat(stored).includes("hmac:")).toBe(true); // the keyed fingerprint did arrive
    // Only keyed fingerprints cross the wire: no plain SHA-256 of a secret is stored.
    for (const secret of secrets) expect(Buffer.concat(stored).includes(localFingerprint(secret))).toBe(false);
  });
});
