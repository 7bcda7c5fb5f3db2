// Secrets never leave the host: a world full of them (config, shell, remote
// token, systemd unit, env files, shell history, provider key), every way of
// running the agent, and a scan of everything printed, logged and received.
import { mkdirSync, readFileSync, readdirSync, rmSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localFingerprint } from "../../shared/fingerprint.ts";
import { startCollectorProcess, type TestCollector } from "../helpers/collector.ts";
import { series, waitForMetrics } from "../helpers/metrics.ts";
import { createGateway, TEST_PROVIDER_KEY, type TestGateway } from "../helpers/openclaw-gateway.ts";
import { runClawfleet, spawnClawfleet, stopAll } from "../helpers/processes.ts";

const SECRETS = {
  gateway: "cf-secret-gateway-token-91c2e7a4d8b0f3a6",
  shell: "cf-secret-shell-token-3e8a1b6c4d2f9e70",
  remote: "cf-secret-remote-token-7d2f4a9c1e6b8d03",
  unit: "cf-secret-unit-token-5b9e2c7a4f1d8e6c",
  envFile: "sk-test-cf-secret-envfile-key-2a7c9e4b",
};

describe("no secret leaves the host", () => {
  let gateway: TestGateway;
  let collector: TestCollector;
  let dir: string;
  const outputs: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-secrets-"));
    gateway = await createGateway({
      token: SECRETS.gateway,
      config: { gateway: { mode: "local", auth: { mode: "token", token: SECRETS.gateway }, remote: { token: SECRETS.remote } } },
    });
    const unitDir = join(gateway.home, ".config", "systemd", "user");
    mkdirSync(unitDir, { recursive: true });
    writeFileSync(join(gateway.stateDir, "gateway.systemd.env"), `ANTHROPIC_API_KEY=${SECRETS.envFile}\n`, { mode: 0o600 });
    writeFileSync(join(unitDir, "openclaw-gateway.service"), [
      "[Service]",
      "ExecStart=/usr/bin/node /usr/lib/node_modules/openclaw/dist/index.js gateway --port " + gateway.port,
      `EnvironmentFile=-${join(gateway.stateDir, "gateway.systemd.env")}`,
      `Environment=OPENCLAW_STATE_DIR=${gateway.stateDir}`,
      `Environment=OPENCLAW_GATEWAY_TOKEN=${SECRETS.unit}`,
      "",
    ].join("\n"), { mode: 0o600 });
    writeFileSync(join(gateway.home, ".zsh_history"), `: 1795590000:0;export OPENCLAW_GATEWAY_TOKEN=${SECRETS.gateway}\n`, { mode: 0o600 });
    collector = await startCollectorProcess(join(dir, "collector.db"));
  });
  afterAll(async () => {
    await stopAll();
    await gateway?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({ ...gateway.clientEnv(SECRETS.shell) });

  it("prints no secret in text, verbose and JSON output, whatever the verdict", async () => {
    for (const args of [[], ["--verbose"], ["--json"]]) {
      const result = await runClawfleet(["agent", "check", ...args], env());
      outputs.push(result.stdout, result.stderr);
      // The config's token wins over the shell's (CLI precedence), so the session is fine;
      // the other sources disagree and a token sits in history: warnings, secrets all around.
      expect(result.code).toBe(1);
    }
    const json = JSON.parse(outputs[4]!);
    // The scan is meaningful: the run saw every source, by fingerprint.
    const sources = (json.credentials as { source: string }[]).map((c) => c.source).join("\n");
    expect(sources).toContain("config gateway.auth.token");
    expect(sources).toContain("config gateway.remote.token");
    expect(sources).toContain("env OPENCLAW_GATEWAY_TOKEN");
    expect(sources).toMatch(/service openclaw-gateway\.service env/);
    expect(json.findings.map((f: { code: string | null }) => f.code)).toEqual(expect.arrayContaining(["token_drift", "secret_in_history"]));
    expect(json.findings.find((f: { check: string }) => f.check === "session").evidence.rejectedTokens).toMatch(/env OPENCLAW_GATEWAY_TOKEN/);
  });

  it("sends, logs and stores none: only keyed fingerprints reach the collector", async () => {
    const agent = spawnClawfleet(["agent", "run", "--insecure", "--collector", collector.grpcAddress, "--node-id", "secret-node", "--interval", "1s", "--state-dir", join(dir, "agent")], env());
    await waitForMetrics(collector.httpAddress, (s) => (s.get(series("clawfleet_collector_reports_total", { outcome: "stored" })) ?? 0) >= 3);
    const query = await runClawfleet(["collector", "query", "node", "secret-node", "--insecure", "--collector", collector.grpcAddress, "--json"]);
    const tokens = await runClawfleet(["collector", "query", "tokens", "--insecure", "--collector", collector.grpcAddress, "--json"]);
    await agent.stop();
    await collector.process.stop();
    outputs.push(agent.stdout, agent.stderr, collector.process.stdout, collector.process.stderr, query.stdout, tokens.stdout);
    expect(JSON.parse(query.stdout).credentials.length).toBeGreaterThanOrEqual(4);

    const stored = Buffer.concat(readdirSync(dir).filter((f) => f.startsWith("collector.db")).map((f) => readFileSync(join(dir, f))));
    expect(stored.includes("hmac:")).toBe(true);
    const everything = outputs.join("\n");
    for (const secret of [...Object.values(SECRETS), TEST_PROVIDER_KEY]) {
      expect(everything).not.toContain(secret);
      expect(stored.includes(secret)).toBe(false);
      // Not even the unkeyed local fingerprint: it is for the host's own screen only.
      expect(stored.includes(localFingerprint(secret))).toBe(false);
    }
  });
});
