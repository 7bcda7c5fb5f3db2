// The collector's fleet judgement through its real interfaces: a real collector
// process, agents speaking the real protocol, the query CLI (tables, JSON, exit
// statuses) and /metrics checked by promtool.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problem } from "../../shared/finding.ts";
import { healthyFindings, startSimulatedAgent, type SimulatedAgent } from "../helpers/agent-simulator.ts";
import { startCollectorProcess, type TestCollector } from "../helpers/collector.ts";
import { scrape, series, waitForMetrics } from "../helpers/metrics.ts";
import { runClawfleet, stopAll } from "../helpers/processes.ts";

const SHARED_KEY = "sk-test-cf-developer-key-copied-into-ci-9e2a";
const LAPTOP_TOKEN = "cf-fleet-laptop-token-4c8e1a7b3d9f";
const CI_TOKEN = "cf-fleet-ci-token-7b3d9f4c8e1a2d6f";

describe("collector fleet judgement and the query CLI", () => {
  let collector: TestCollector;
  let dir: string;
  const agents: Record<string, SimulatedAgent> = {};
  const query = (...args: string[]) => runClawfleet(["collector", "query", ...args, "--insecure", "--collector", collector.grpcAddress]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-fleet-"));
    collector = await startCollectorProcess(join(dir, "c.db"));
    const start = (nodeId: string, options: Partial<Parameters<typeof startSimulatedAgent>[0]>) => {
      agents[nodeId] = startSimulatedAgent({ collector: collector.grpcAddress, nodeId, maySleep: false, findings: healthyFindings(), intervalMs: 1000, ...options });
    };
    // A developer laptop and a CI runner that got the same provider key: the classic copy.
    start("dev-laptop", { maySleep: true, credentials: [{ kind: "provider_key", source: "env ANTHROPIC_API_KEY", secret: SHARED_KEY, subject: "main/anthropic" }, { kind: "gateway_token", source: "config gateway.auth.token", secret: LAPTOP_TOKEN, subject: "gateway:18789" }] });
    start("ci-runner-1", { credentials: [{ kind: "provider_key", source: "env ANTHROPIC_API_KEY", secret: SHARED_KEY, subject: "main/anthropic" }, { kind: "gateway_token", source: "config gateway.auth.token", secret: CI_TOKEN, subject: "gateway:18789" }] });
    start("mini-01", { findings: [...healthyFindings(), problem("tunnel", "tailscale_needs_login", "Tailscale is logged out.")] });
    start("mini-02", {});
    await Promise.all(Object.values(agents).map((a) => a.connected));
    await waitForMetrics(collector.httpAddress, (s) => s.get(series("clawfleet_finding", { node: "ci-runner-1", layer: "fleet", code: "token_shared" })) === 1);
  });
  afterAll(async () => {
    Object.values(agents).forEach((a) => a.stop());
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it("finds the provider key shared by two nodes without ever receiving it", async () => {
    const tokens = await query("tokens", "--json");
    expect(tokens.code).toBe(1);
    const shared = (JSON.parse(tokens.stdout).fingerprints as { fingerprint: string; kind: string; nodes: string[] }[]).find((f) => f.nodes.length > 1)!;
    expect(shared).toMatchObject({ kind: "provider_key", nodes: ["ci-runner-1", "dev-laptop"] });
    expect(shared.fingerprint).toMatch(/^hmac:[0-9a-f]{16}$/);
    const table = await query("tokens");
    expect(table.stdout).toMatch(new RegExp(`^${shared.fingerprint}\\s+provider_key\\s+2\\s+ci-runner-1 \\(env ANTHROPIC_API_KEY\\), dev-laptop`, "m"));
    const stored = Buffer.concat(readdirSync(dir).filter((f) => f.startsWith("c.db")).map((f) => readFileSync(join(dir, f))));
    for (const secret of [SHARED_KEY, LAPTOP_TOKEN, CI_TOKEN]) expect(stored.includes(secret)).toBe(false);
  });

  it("records a rotation: the audit trail has both fingerprints, and the rotations counter counts it", async () => {
    agents["ci-runner-1"]!.report(healthyFindings(), false, {
      credentials: [{ kind: "provider_key", source: "env ANTHROPIC_API_KEY", secret: SHARED_KEY, subject: "main/anthropic" }, { kind: "gateway_token", source: "config gateway.auth.token", secret: `${CI_TOKEN}-rotated`, subject: "gateway:18789" }],
    });
    await waitForMetrics(collector.httpAddress, (s) => s.get(series("clawfleet_credential_rotations_total", { node: "ci-runner-1", kind: "gateway_token" })) === 1);
    const tokens = JSON.parse((await query("tokens", "--json")).stdout) as { rotations: { node: string; detail: Record<string, string> }[] };
    const rotation = tokens.rotations.find((r) => r.node === "ci-runner-1")!;
    expect(rotation.detail).toMatchObject({ kind: "gateway_token", source: "config gateway.auth.token" });
    expect(rotation.detail.from).toMatch(/^hmac:[0-9a-f]{16}$/);
    expect(rotation.detail.to).toMatch(/^hmac:[0-9a-f]{16}$/);
    expect(rotation.detail.from).not.toBe(rotation.detail.to);
  });

  it("lists nodes failing first, filters by layer, code, state and glob, and exits 1 only when a listed node fails", async () => {
    const table = await query("nodes");
    expect(table.code).toBe(1);
    const order = table.stdout.trim().split("\n").slice(1).map((line) => line.split(/\s+/)[0]);
    expect(order[0]).toBe("mini-01");
    expect(table.stdout).toMatch(/^mini-01\s+failing\s+tunnel\s+tailscale_needs_login\s+\d+s\s+Log this node back in/m);

    const tunnel = await query("nodes", "--layer", "tunnel", "--json");
    expect(JSON.parse(tunnel.stdout).nodes.map((n: { id: string }) => n.id)).toEqual(["mini-01"]);
    const byCode = await query("nodes", "--code", "token_shared", "--json");
    expect(JSON.parse(byCode.stdout).nodes.map((n: { id: string }) => n.id)).toEqual(["ci-runner-1", "dev-laptop"]);
    const json = JSON.parse((await query("nodes", "--json")).stdout);
    expect(json.versions.agent).toEqual({ simulator: 4 });

    const healthy = await query("nodes", "--node", "mini-0?", "--state", "healthy");
    expect(healthy.code).toBe(0);
    expect(healthy.stdout).toMatch(/^mini-02\s+healthy/m);
    expect(healthy.stdout).not.toContain("mini-01");
  });

  it("rejects bad filters with exit 2 and names the flag", async () => {
    const bad = await query("nodes", "--layer", "kernel");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--layer must be one of gateway, session");
    const unknown = await query("node", "no-such-node");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no node "no-such-node" has ever reported');
  });

  it("marks a silent node asleep when its reports said it may sleep, unreachable otherwise", async () => {
    agents["dev-laptop"]!.stop();
    agents["mini-02"]!.stop();
    const { samples } = await waitForMetrics(collector.httpAddress, (s) =>
      s.get(series("clawfleet_node_state", { node: "dev-laptop", state: "asleep" })) === 1 && s.get(series("clawfleet_node_state", { node: "mini-02", state: "unreachable" })) === 1,
    );
    expect(samples.get(series("clawfleet_node_up", { node: "dev-laptop" }))).toBe(0);
    const asleep = await query("nodes", "--state", "asleep", "--json");
    expect(asleep.code).toBe(0); // asleep is not failing
    expect(JSON.parse(asleep.stdout).nodes.map((n: { id: string }) => n.id)).toEqual(["dev-laptop"]);
  });

  it("relabels an unreachable interval as sleep when the node comes back and reports when it slept and woke", async () => {
    const silentSince = Date.now();
    await new Promise((r) => setTimeout(r, 1500));
    agents["mini-02"] = startSimulatedAgent({
      collector: collector.grpcAddress, nodeId: "mini-02", maySleep: false, findings: healthyFindings(), intervalMs: 1000,
      lastSleepMs: silentSince + 200, lastWakeMs: Date.now() - 100,
    });
    await agents["mini-02"].connected;
    let node = JSON.parse((await query("node", "mini-02", "--json")).stdout);
    for (let i = 0; i < 20 && !node.silences.some((s: { relabelled: boolean }) => s.relabelled); i++) {
      await new Promise((r) => setTimeout(r, 200));
      node = JSON.parse((await query("node", "mini-02", "--json")).stdout);
    }
    expect(node.silences[0]).toMatchObject({ label: "asleep", relabelled: true });
    expect(node.events.map((e: { kind: string }) => e.kind)).toEqual(expect.arrayContaining(["relabelled", "woke", "silent"]));
    const text = await query("node", "mini-02");
    expect(text.stdout).toMatch(/asleep \(relabelled from evidence\)/);
  });

  it("logs events a person can read, and the JSON scripts need", async () => {
    const events = await query("events", "--since", "10m", "--json");
    const kinds = new Set((JSON.parse(events.stdout).events as { kind: string }[]).map((e) => e.kind));
    for (const kind of ["connect", "disconnect", "silent", "finding_raised", "credential_added"]) expect(kinds).toContain(kind);
    const table = await query("events", "--since", "10m", "--node", "mini-01");
    expect(table.stdout).toMatch(/^AT\s+NODE\s+KIND\s+LAYER\/CODE\s+DETAIL$/m);
    expect(table.stdout).toMatch(/mini-01\s+finding_raised\s+tunnel\/tailscale_needs_login/);
    expect(table.code).toBe(1); // it lists a raised failure
  });

  it("exposes metrics that pass promtool check metrics", async () => {
    const text = await (await fetch(`http://${collector.httpAddress}/metrics`)).text();
    expect(() => execFileSync("promtool", ["check", "metrics"], { input: text, stdio: ["pipe", "pipe", "pipe"] })).not.toThrow();
    const samples = await scrape(collector.httpAddress);
    expect(samples.get("clawfleet_collector_nodes")).toBe(4);
  });
});
