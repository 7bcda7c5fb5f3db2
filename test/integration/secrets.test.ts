// Secrets never leave the host: a world full of them (config, shell, remote
// token, systemd unit, env files, shell history, provider key), every way of
// running the agent, and a scan of everything printed, logged and received.
import { mkdirSync, readFileSync, readdirSync, rmSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localFingerprint } from "../../shared/fingerprint.ts";
import { series, waitForMetrics } from "../helpers/metrics.ts";
import { freePort } from "../helpers/ports.ts";
import { createGateway, TEST_PROVIDER_KEY, type TestGateway } from "../helpers/openclaw-gateway.ts";
import { runClawfleet, spawnClawfleet, stopAll, type Spawned } from "../helpers/processes.ts";

const SECRETS = {
  gateway: "cf-secret-gateway-token-91c2e7a4d8b0f3a6",
  shell: "cf-secret-shell-token-3e8a1b6c4d2f9e70",
  remote: "cf-secret-remote-token-7d2f4a9c1e6b8d03",
  unit: "cf-secret-unit-token-5b9e2c7a4f1d8e6c",
  envFile: "sk-test-cf-secret-envfile-key-2a7c9e4b",
};

describe("no secret leaves the host", () => {
  let gateway: TestGateway;
  let collector: { grpcAddress: string; httpAddress: string; process: Spawned };
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
    // The secure default: mTLS, so the only place to see what the agent sends is before encryption.
    const grpcAddress = `127.0.0.1:${await freePort()}`;
    const httpAddress = `127.0.0.1:${await freePort()}`;
    const process = spawnClawfleet(["collector", "serve", "--grpc-listen", grpcAddress, "--http-listen", httpAddress, "--db", join(dir, "collector.db")]);
    await process.waitFor(/collector ready/);
    collector = { grpcAddress, httpAddress, process };
  });
  afterAll(async () => {
    await stopAll();
    await gateway?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({ ...gateway.clientEnv(SECRETS.shell) });

  it("prints no secret in text, verbose, JSON and ticket output, whatever the verdict", async () => {
    for (const args of [[], ["--verbose"], ["--json"], ["--ticket"]]) {
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
    // The ticket names every source the run saw, each with its fingerprint only.
    for (const c of json.credentials as { source: string; fingerprint: string }[]) expect(outputs[6]).toContain(`\`${c.source}\` → \`${c.fingerprint}\``);
  }, 60_000);

  it("sends, logs and stores none: only keyed fingerprints reach the collector, over mTLS", async () => {
    const db = ["--db", join(dir, "collector.db")];
    const operatorEnv = { CLAWFLEET_DATA_DIR: join(dir, "operator-data") };
    const nodeToken = (await runClawfleet(["collector", "enroll", "secret-node", ...db])).stdout.trim();
    const operatorToken = (await runClawfleet(["collector", "enroll", "ops", "--operator", ...db])).stdout.trim();
    const enrolled = await runClawfleet(["agent", "enroll", "--collector", collector.grpcAddress, "--token", nodeToken, "--state-dir", join(dir, "agent")], env());
    expect(enrolled.code).toBe(0);
    expect((await runClawfleet(["collector", "login", "--collector", collector.grpcAddress, "--token", operatorToken], operatorEnv)).code).toBe(0);
    const capture = join(dir, "sent-before-tls.bin");
    const agent = spawnClawfleet(["agent", "run", "--state-dir", join(dir, "agent"), "--interval", "1s"], {
      ...env(),
      NODE_OPTIONS: `--import ${new URL("../helpers/capture-grpc-writes.mjs", import.meta.url).pathname}`,
      CLAWFLEET_CAPTURE: capture,
    });
    await waitForMetrics(collector.httpAddress, (s) => (s.get(series("clawfleet_collector_reports_total", { outcome: "stored" })) ?? 0) >= 3);
    const query = await runClawfleet(["collector", "query", "node", "secret-node", "--json"], operatorEnv);
    const tokens = await runClawfleet(["collector", "query", "tokens", "--json"], operatorEnv);
    await agent.stop();
    await collector.process.stop();
    outputs.push(agent.stdout, agent.stderr, collector.process.stdout, collector.process.stderr, query.stdout, tokens.stdout, enrolled.stdout, enrolled.stderr);
    expect(agent.stderr).toMatch(/transport=mtls/);
    expect(JSON.parse(query.stdout).credentials.length).toBeGreaterThanOrEqual(4);
    // The capture is meaningful: it holds the hello and the reports' keyed fingerprints, in clear.
    const sent = readFileSync(capture);
    expect(sent.includes("secret-node")).toBe(true);
    expect(sent.includes("hmac:")).toBe(true);
    for (const secret of [...Object.values(SECRETS), TEST_PROVIDER_KEY]) {
      expect(sent.includes(secret)).toBe(false);
      expect(sent.includes(localFingerprint(secret))).toBe(false);
    }

    const stored = Buffer.concat(readdirSync(dir).filter((f) => f.startsWith("collector.db")).map((f) => readFileSync(join(dir, f))));
    expect(stored.includes("hmac:")).toBe(true);
    const everything = outputs.join("\n");
    for (const secret of [...Object.values(SECRETS), TEST_PROVIDER_KEY]) {
      expect(everything).not.toContain(secret);
      expect(stored.includes(secret)).toBe(false);
      // Not even the unkeyed local fingerprint: it is for the host's own screen only.
      expect(stored.includes(localFingerprint(secret))).toBe(false);
    }
  }, 60_000);
});
