// `clawfleet agent check` against a real OpenClaw gateway in realistic broken
// setups: each scenario changes the world the way an operator would, runs the
// real CLI, and asserts the layer, code, exit status and that no secret leaks.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, TEST_PROVIDER_KEY, type TestGateway } from "../helpers/openclaw-gateway.ts";
import { agentCheckJson, REPO_ROOT, stopAll, type CheckDocument } from "../helpers/processes.ts";
import { freePort } from "../helpers/ports.ts";
import { fakeGlobalInstall } from "../helpers/openclaw-installs.ts";

const TOKEN = "cf-triage-token-5e1b7d3a9c2f4e6b";
const SHELL_TOKEN = "cf-triage-shell-token-8a2c4e6f0b1d3f5a";
const OLD_SERVICE_TOKEN = "cf-triage-old-service-token-2b4d6f8a1c3e";

describe("agent check triage against a real gateway", () => {
  let gateway: TestGateway;
  let scratch: string;
  const printed: string[] = [];

  async function check(env: NodeJS.ProcessEnv = {}, args: string[] = []): Promise<{ code: number | null; doc: CheckDocument }> {
    const result = await agentCheckJson({ ...gateway.clientEnv(), PATH: `${REPO_ROOT}node_modules/.bin:/usr/bin:/bin`, ...env }, args);
    printed.push(result.stdout, result.stderr);
    return result;
  }
  const codes = (doc: CheckDocument) => doc.findings.filter((f) => f.code).map((f) => f.code);

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "clawfleet-triage-"));
    // reload "off": an edit waits for a restart, as on hosts that pin their config.
    gateway = await createGateway({ token: TOKEN, config: { gateway: { mode: "local", reload: { mode: "off" }, controlUi: { enabled: true } } } });
  });
  afterAll(async () => {
    await stopAll();
    await gateway?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("is OK on a healthy gateway, with gateway, session, drift and baseline passing", async () => {
    const { code, doc } = await check();
    expect(code).toBe(0);
    expect(doc.verdict).toBe("ok");
    const status = Object.fromEntries(doc.findings.map((f) => [f.check, f.status]));
    expect(status).toMatchObject({ gateway: "ok", session: "ok", drift: "ok", baseline: "ok" });
    expect(doc.findings.find((f) => f.check === "gateway")!.evidence).toMatchObject({ gatewayVersion: "2026.9.6", listenAddresses: expect.stringContaining("127.0.0.1") });
  });

  it("reports token_mismatch for a wrong client token, and names the source the gateway does accept", async () => {
    const { code, doc } = await check({ OPENCLAW_GATEWAY_TOKEN: SHELL_TOKEN });
    expect(code).toBe(2);
    expect(doc.primary).toMatchObject({ layer: "session", code: "token_mismatch" });
    const session = doc.findings.find((f) => f.check === "session")!;
    expect(session.evidence.rejectedTokens).toMatch(/^sha256:[0-9a-f]{12} from env OPENCLAW_GATEWAY_TOKEN$/);
    // The running gateway's own environment holds the accepted token (read from /proc).
    expect(session.evidence.acceptedTokens).toMatch(/^sha256:[0-9a-f]{12} from gateway pid \d+ env OPENCLAW_GATEWAY_TOKEN$/);
    expect(codes(doc)).toContain("token_drift");
  });

  it("reports token_drift when the service definition holds another token than the shell and the gateway", async () => {
    // The systemd user unit OpenClaw 2026.9.6 writes (test/fixtures/systemd), with a token from before a rotation.
    const template = readFileSync(new URL("../fixtures/systemd/openclaw-gateway.service.template", import.meta.url), "utf8");
    const unit = template.replaceAll("{{HOME}}", gateway.home).replaceAll("{{STATE_DIR}}", gateway.stateDir).replace("OPENCLAW_GATEWAY_PORT=18789", `OPENCLAW_GATEWAY_PORT=${gateway.port}`).replace("[Install]", `Environment=OPENCLAW_GATEWAY_TOKEN=${OLD_SERVICE_TOKEN}\n\n[Install]`);
    const unitDir = join(gateway.home, ".config", "systemd", "user");
    mkdirSync(unitDir, { recursive: true });
    writeFileSync(join(unitDir, "openclaw-gateway.service"), unit, { mode: 0o600 });
    try {
      const { code, doc } = await check();
      expect(code).toBe(1);
      expect(doc.findings.find((f) => f.check === "session")!.status).toBe("ok");
      const drift = doc.findings.find((f) => f.code === "token_drift")!;
      expect(drift.summary).toMatch(/\(rejected\): service openclaw-gateway\.service env/);
      expect(drift.summary).toMatch(/\(accepted\): env OPENCLAW_GATEWAY_TOKEN \+ gateway pid \d+ env OPENCLAW_GATEWAY_TOKEN/);
      expect(doc.findings.find((f) => f.check === "gateway")!.evidence).toMatchObject({ service: "systemd openclaw-gateway.service" });
    } finally {
      rmSync(join(gateway.home, ".config"), { recursive: true, force: true });
    }
  });

  it("reports service_env_missing for a variable the config references that only the shell has", async () => {
    const configPath = join(gateway.stateDir, "openclaw.json");
    const original = readFileSync(configPath, "utf8");
    writeFileSync(configPath, JSON.stringify({ gateway: { mode: "local", reload: { mode: "off" }, controlUi: { enabled: true, environment: { label: "${CF_ENV_LABEL}", color: "amber" } } } }, null, 2), { mode: 0o600 });
    await gateway.settle();
    try {
      const { doc } = await check({ CF_ENV_LABEL: "edge" });
      expect(doc.findings.find((f) => f.code === "service_env_missing")).toMatchObject({ layer: "drift", evidence: { variable: "CF_ENV_LABEL" } });
      expect(doc.findings.find((f) => f.code === "service_env_missing")!.summary).toContain("the running gateway's environment");
    } finally {
      writeFileSync(configPath, original, { mode: 0o600 });
      await gateway.settle();
    }
  });

  it("reports token_missing when no source holds a client token, and token_empty for an empty one", async () => {
    const missing = await check({ OPENCLAW_GATEWAY_TOKEN: undefined });
    expect(missing.code).toBe(2);
    expect(missing.doc.primary).toMatchObject({ layer: "session", code: "token_missing" });
    // The gateway's own token is in its process environment: the summary says where a working one is.
    expect(missing.doc.findings.find((f) => f.check === "session")!.summary).toMatch(/does accept sha256:[0-9a-f]{12} from gateway pid/);
    const empty = await check({ OPENCLAW_GATEWAY_TOKEN: "" });
    expect(empty.doc.primary).toMatchObject({ layer: "session", code: "token_empty" });
  });

  it("reports not_listening when the gateway for this state dir runs on another port than the CLI uses", async () => {
    const { code, doc } = await check({ OPENCLAW_GATEWAY_PORT: String(await freePort()) });
    expect(code).toBe(2);
    expect(doc.primary).toMatchObject({ layer: "gateway", code: "not_listening" });
    expect(doc.findings.find((f) => f.code === "not_listening")!.evidence.pid).toBe(String(gateway.process!.child.pid));
  });

  it("reports config_path_mismatch when the CLI reads another config file than the running gateway", async () => {
    const other = join(scratch, "other-openclaw.json");
    writeFileSync(other, JSON.stringify({ gateway: { mode: "local" } }), { mode: 0o600 });
    const { doc } = await check({ OPENCLAW_CONFIG_PATH: other });
    expect(doc.findings.find((f) => f.code === "config_path_mismatch")).toMatchObject({
      layer: "drift",
      evidence: { cliConfigPath: other, serviceConfigPath: join(gateway.stateDir, "openclaw.json") },
    });
  });

  it("finds a live token in a shell history file (secret_in_history)", async () => {
    const history = join(gateway.home, ".bash_history");
    writeFileSync(history, `ls\nexport OPENCLAW_GATEWAY_TOKEN=${TOKEN}\nopenclaw gateway status\n`, { mode: 0o600 });
    try {
      const { code, doc } = await check();
      expect(code).toBe(1);
      const hit = doc.findings.find((f) => f.code === "secret_in_history")!;
      expect(hit).toMatchObject({ layer: "baseline", status: "warn", evidence: { path: history } });
      expect(hit.evidence.fingerprint).toMatch(/^sha256:/);
    } finally {
      rmSync(history);
    }
  });

  it("flags a config readable by others (credentials_exposed) and names the file and mode", async () => {
    const configPath = join(gateway.stateDir, "openclaw.json");
    chmodSync(configPath, 0o644);
    await gateway.settle();
    try {
      const { doc } = await check();
      const exposed = doc.findings.find((f) => f.code === "credentials_exposed")!;
      expect(exposed).toMatchObject({ layer: "drift", evidence: { path: configPath, mode: "644" } });
    } finally {
      chmodSync(configPath, 0o600);
      await gateway.settle();
    }
  });

  it("reports two openclaw installs of different versions on PATH (multiple_binaries, version_mismatch)", async () => {
    // An older global install earlier on PATH, laid out as npm does (bin → lib/node_modules/openclaw/openclaw.mjs).
    const oldBin = fakeGlobalInstall(join(scratch, "old-prefix"), "2026.8.1");
    const current = join(REPO_ROOT, "test", "openclaw", "node_modules", ".bin");
    const { code, doc } = await check({ PATH: `${oldBin}:${current}:${REPO_ROOT}node_modules/.bin:/usr/bin:/bin` });
    expect(code).toBe(1);
    const multiple = doc.findings.find((f) => f.code === "multiple_binaries")!;
    expect(multiple.summary).toContain("2026.8.1");
    expect(multiple.summary).toContain("2026.9.6");
    const mismatch = doc.findings.find((f) => f.code === "version_mismatch")!;
    expect(mismatch.evidence).toMatchObject({ cliVersion: "2026.8.1", serviceVersion: "2026.9.6" });
  });

  it("reports openclaw_vulnerable from an operator's advisory file", async () => {
    const advisories = join(scratch, "advisories.json");
    writeFileSync(advisories, JSON.stringify({ advisories: [{ id: "TEST-2026-0001", title: "test advisory", affectedUpTo: "2026.9.6", fixedIn: "2026.9.7", sources: ["https://example.invalid/advisory"] }] }));
    const { code, doc } = await check({ CLAWFLEET_ADVISORIES: advisories });
    expect(code).toBe(2);
    expect(doc.findings.find((f) => f.code === "openclaw_vulnerable")).toMatchObject({ layer: "baseline", status: "fail", evidence: { advisory: "TEST-2026-0001", version: "2026.9.6", fixedIn: "2026.9.7" } });
  });

  it("reports config_not_applied after an edit the gateway has not loaded, then config_invalid for a broken edit", async () => {
    const configPath = join(gateway.stateDir, "openclaw.json");
    writeFileSync(configPath, JSON.stringify({ gateway: { mode: "local", reload: { mode: "off" }, controlUi: { enabled: true, environment: { label: "edited", color: "amber" } } } }, null, 2), { mode: 0o600 });
    await gateway.settle();
    const edited = await check();
    expect(edited.code).toBe(1);
    expect(edited.doc.findings.find((f) => f.code === "config_not_applied")).toMatchObject({ layer: "drift", status: "warn" });

    writeFileSync(configPath, JSON.stringify({ gateway: { mode: "local", port: "not-a-port", reload: { mode: "off" } } }), { mode: 0o600 });
    await gateway.settle();
    const invalid = await check();
    const finding = invalid.doc.findings.find((f) => f.code === "config_invalid")!;
    expect(finding.summary).toMatch(/gateway\.port/);
    expect(invalid.code).toBe(2);
  });

  it("reports not_running once the gateway stops, and marks nothing else as the cause", async () => {
    await gateway.stop();
    const { code, doc } = await check();
    expect(code).toBe(2);
    expect(doc.primary).toMatchObject({ layer: "gateway", code: "not_running" });
    expect(doc.findings.find((f) => f.check === "session")!.status).toBe("skip");
  });

  it("never printed a token", () => {
    const all = printed.join("\n");
    expect(all.length).toBeGreaterThan(1000);
    for (const secret of [TOKEN, SHELL_TOKEN, OLD_SERVICE_TOKEN, TEST_PROVIDER_KEY]) expect(all).not.toContain(secret);
  });
});
