// The provider check against state the real OpenClaw CLI wrote: agents added
// with `openclaw agents add`, credentials saved with `openclaw models auth
// paste-api-key` / `paste-token` (non-interactive, secret on stdin), then the
// real `clawfleet agent check --json`. No gateway runs: the check reads
// openclaw.json and the SQLite stores only.
import { spawn } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { providerCheck } from "../../agent/checks/provider.ts";
import { runChecks } from "../../agent/checks/run-checks.ts";
import { PROVIDER_ENV_VARS, gatewayEnv } from "../../agent/discovery/provider-env.ts";
import { discoverOpenClaw } from "../../agent/discovery/openclaw-world.ts";
import { systemRunner } from "../../agent/platform/command-runner.ts";
import { localFingerprint } from "../../shared/fingerprint.ts";
import { OPENCLAW_ENTRY } from "../helpers/openclaw-gateway.ts";
import { endWatch, watchChecks } from "../helpers/openclaw-host-guard.ts";
import { freePort } from "../helpers/ports.ts";
import { agentCheckJson, CLAWFLEET_BIN, baseEnv, spawnProcess, stopAll, type CheckDocument } from "../helpers/processes.ts";

// Obvious fakes. The Anthropic setup token must look like one (prefix, >= 80 chars) or paste-token refuses it.
const XAI_KEY = "xai-clawfleet-FAKE-work-5f1c9a7e3b";
const NIGHT_TOKEN = `sk-ant-oat01-clawfleet-FAKE-night-${"0".repeat(60)}`;
const OPENAI_ENV_KEY = "sk-clawfleet-FAKE-env-main-8d2e4b6a";
const OPENROUTER_DOTENV_KEY = "sk-or-clawfleet-FAKE-dotenv-3c7a";
const SECRETS = [XAI_KEY, NIGHT_TOKEN, OPENAI_ENV_KEY, OPENROUTER_DOTENV_KEY];

type Finding = CheckDocument["findings"][number];

describe("provider check against state written by the real OpenClaw CLI", () => {
  let home: string;
  let stateDir: string;
  let port: number;
  const outputs: string[] = [];
  // No provider key from the developer's shell may leak into either side.
  const unsetProviderVars = Object.fromEntries([...new Set(Object.values(PROVIDER_ENV_VARS).flat())].map((name) => [name, undefined]));
  const env = (): NodeJS.ProcessEnv => ({ ...unsetProviderVars, HOME: home, OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_PORT: String(port) });

  /** `openclaw ARGS` with the secret, if any, on stdin (never in argv), bounded. */
  async function openclaw(args: string[], stdin = ""): Promise<string> {
    const child = spawn(process.execPath, [OPENCLAW_ENTRY, ...args], { env: { ...baseEnv(), ...env() }, cwd: home, stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.stdin.end(stdin);
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    clearTimeout(timer);
    if (code !== 0) throw new Error(`openclaw ${args.join(" ")} exited ${code}:\n${output.slice(-3000)}`);
    return output;
  }

  async function check(extraEnv: NodeJS.ProcessEnv = {}): Promise<Finding[]> {
    const result = await agentCheckJson({ ...env(), ...extraEnv });
    outputs.push(result.stdout, result.stderr);
    expect(result.stdout, result.stderr).toMatch(/^\{/);
    return result.doc.findings.filter((f) => f.layer === "provider");
  }

  const forAgent = (findings: Finding[], agent: string, provider?: string) => findings.filter((f) => f.evidence.agent?.split(",").includes(agent) && (!provider || f.evidence.provider === provider));

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), "clawfleet-provider-"));
    stateDir = join(home, ".openclaw");
    port = await freePort(); // nothing listens: the CLI's "refresh the running gateway" fails fast
    // `main` gets no model: OpenClaw then runs its default (openai/gpt-6-astra).
    await openclaw(["agents", "add", "work", "--workspace", join(home, "ws-work"), "--model", "xai/grok-4", "--non-interactive", "--json"]);
    await openclaw(["agents", "add", "ops", "--workspace", join(home, "ws-ops"), "--model", "openrouter/anthropic/claude-sonnet-4.5", "--non-interactive", "--json"]);
    await openclaw(["agents", "add", "night", "--workspace", join(home, "ws-night"), "--model", "anthropic/claude-opus-4-6", "--non-interactive", "--json"]);
    // A key scoped to agent work only (its own store, not the shared one).
    await openclaw(["models", "auth", "paste-api-key", "--provider", "xai", "--agent", "work"], `${XAI_KEY}\n`);
    // A setup token that expires 1 ms after it is saved: the faithful way to an expired token profile.
    await openclaw(["models", "auth", "paste-token", "--provider", "anthropic", "--agent", "night", "--expires-in", "1ms"], `${NIGHT_TOKEN}\n`);
  }, 180_000);

  afterAll(async () => {
    await stopAll();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("passes the agent whose own store holds a key, naming the profile and its fingerprint", async () => {
    const findings = await check({ OPENAI_API_KEY: OPENAI_ENV_KEY });
    const [work] = forAgent(findings, "work", "xai");
    expect(work).toMatchObject({
      status: "ok",
      code: null,
      evidence: { agent: "work", provider: "xai", source: "auth store profile xai:manual", fingerprint: localFingerprint(XAI_KEY), storePath: join(stateDir, "agents", "work", "agent", "openclaw-agent.sqlite") },
    });
  });

  it("reports api_key_missing for the agent without a key, naming the agent, the provider and its env var", async () => {
    const findings = await check({ OPENAI_API_KEY: OPENAI_ENV_KEY });
    const [ops] = forAgent(findings, "ops", "openrouter");
    expect(ops).toMatchObject({
      status: "fail",
      code: "api_key_missing",
      evidence: { agent: "ops", provider: "openrouter", envVar: "OPENROUTER_API_KEY", agentDir: join(stateDir, "agents", "ops", "agent"), storePath: join(stateDir, "agents", "ops", "agent", "openclaw-agent.sqlite") },
    });
    expect(ops!.action).toContain("--agent ops");
    expect(ops!.action).toContain("OPENROUTER_API_KEY");
  });

  it("passes the default-model agent whose key is only in the environment, with source env", async () => {
    const findings = await check({ OPENAI_API_KEY: OPENAI_ENV_KEY });
    const [main] = forAgent(findings, "main");
    expect(main).toMatchObject({
      status: "ok",
      evidence: { agent: "main", provider: "openai", source: "env OPENAI_API_KEY", fingerprint: localFingerprint(OPENAI_ENV_KEY), modelSource: "OpenClaw default (no primary model configured)" },
    });
    // Without that variable the same agent has nothing.
    const [bare] = forAgent(await check(), "main");
    expect(bare).toMatchObject({ code: "api_key_missing", evidence: { provider: "openai", envVar: "CODEX_API_KEY or OPENAI_API_KEY" } });
  });

  it("reports credential_expired for the agent whose only credential is an expired token profile", async () => {
    const findings = await check({ OPENAI_API_KEY: OPENAI_ENV_KEY });
    const [night] = forAgent(findings, "night", "anthropic");
    expect(night).toMatchObject({ status: "fail", code: "credential_expired", evidence: { agent: "night", provider: "anthropic", profile: "anthropic:manual", type: "token" } });
    expect(Date.parse(night!.evidence.expiresAt!)).toBeLessThan(Date.now());
    expect(night!.action).toContain(night!.evidence.expiresAt);
  });

  it("counts a key in the state dir's .env, which the gateway loads itself", async () => {
    const dotenv = join(stateDir, ".env");
    writeFileSync(dotenv, `OPENROUTER_API_KEY=${OPENROUTER_DOTENV_KEY}\n`, { mode: 0o600 });
    try {
      const [ops] = forAgent(await check(), "ops", "openrouter");
      expect(ops).toMatchObject({ status: "ok", evidence: { source: `${dotenv} OPENROUTER_API_KEY`, fingerprint: localFingerprint(OPENROUTER_DOTENV_KEY) } });
    } finally {
      unlinkSync(dotenv);
    }
  });

  it("runs in well under 100 ms and leaves the stores exactly as it found them", async () => {
    const before = sqliteFiles(stateDir);
    const watch = watchChecks("runChecks([providerCheck])", env());
    const world = discoverOpenClaw({ ...process.env, ...env(), OPENAI_API_KEY: OPENAI_ENV_KEY });
    const durations: number[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await runChecks([providerCheck], { world, fingerprint: localFingerprint, runner: systemRunner, platform: process.platform });
      expect(run.findings.filter((f) => f.code === "api_key_missing").map((f) => f.evidence.agent)).toEqual(["ops"]);
      durations.push(run.durationMs);
    }
    expect(Math.min(...durations)).toBeLessThan(100);
    expect(sqliteFiles(stateDir)).toEqual(before);
    expect(endWatch(watch, { reported: true })).toBeUndefined();
  });

  it("judges by the service's environment when there is one, and says when a key is only in this shell", async () => {
    // A launchd/systemd service definition as gateway-service.ts reports it; the check reads it as the gateway-environment observation.
    const world = discoverOpenClaw({ ...process.env, ...env(), OPENAI_API_KEY: OPENAI_ENV_KEY, OPENROUTER_API_KEY: OPENROUTER_DOTENV_KEY });
    const serviceView = gatewayEnv({ stateDir, cliEnv: world.env, serviceEnv: { HOME: home, OPENAI_API_KEY: OPENAI_ENV_KEY }, serviceName: "ai.openclaw.gateway", config: world.config.raw! });
    const run = await runChecks([providerCheck], { world, fingerprint: localFingerprint, runner: systemRunner, platform: process.platform, preset: new Map([["gateway-environment", serviceView]]) });
    const findings = run.findings;
    const noted = run.credentials.map((c) => `${c.subject} ${c.source}`);
    outputs.push(JSON.stringify(findings));
    expect(forAgent(findings, "main")[0]).toMatchObject({ status: "ok", evidence: { source: "service ai.openclaw.gateway env OPENAI_API_KEY" } });
    const [ops] = forAgent(findings, "ops", "openrouter");
    expect(ops).toMatchObject({ code: "api_key_missing", evidence: { shellOnly: "OPENROUTER_API_KEY" } });
    expect(ops!.summary).toContain("set in this shell but not in the gateway's environment (service ai.openclaw.gateway env)");
    expect(noted).toEqual(expect.arrayContaining(["main/openai service ai.openclaw.gateway env OPENAI_API_KEY", "work/xai auth store profile xai:manual"]));
  });

  it("reports auth_store_unreadable naming the store a chmod 000 made unreadable", async () => {
    const store = join(stateDir, "agents", "work", "agent", "openclaw-agent.sqlite");
    chmodSync(store, 0o000);
    let findings: Finding[];
    if (process.getuid?.() !== 0) {
      findings = await check();
    } else {
      // Root reads any file: run the agent as nobody over a tree nobody owns, so only the mode stops it.
      for (const path of [home, ...readdirSync(home, { recursive: true }).map((p) => join(home, String(p)))]) chownSync(path, 65534, 65534);
      const watch = watchChecks("agent check as nobody", env());
      const child = spawnProcess("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, CLAWFLEET_BIN, "agent", "check", "--json"], { ...baseEnv(), ...env() });
      const timer = setTimeout(() => child.child.kill("SIGKILL"), 30_000);
      await child.exited;
      clearTimeout(timer);
      expect(endWatch(watch, { reported: true })).toBeUndefined();
      outputs.push(child.stdout, child.stderr);
      findings = (JSON.parse(child.stdout) as { findings: Finding[] }).findings.filter((f) => f.layer === "provider");
    }
    const [unreadable] = findings.filter((f) => f.code === "auth_store_unreadable");
    expect(unreadable).toMatchObject({ status: "fail", evidence: { path: store, agent: "work", reason: expect.stringMatching(/mode 000/) } });
    expect(unreadable!.action).toContain(store);
    // The other agents are still judged on their own stores.
    expect(forAgent(findings, "ops", "openrouter")[0]?.code).toBe("api_key_missing");
  });

  it("never prints a key or token, only fingerprints", () => {
    const all = outputs.join("\n");
    expect(all).toContain("sha256:"); // we are scanning real output
    for (const secret of SECRETS) expect(all).not.toContain(secret);
  });
});

/** Every SQLite file and sidecar under the state dir, with size and mtime. */
function sqliteFiles(stateDir: string): string[] {
  return readdirSync(stateDir, { recursive: true })
    .map(String)
    .filter((p) => p.includes(".sqlite"))
    .sort()
    .map((p) => {
      const s = statSync(join(stateDir, p));
      return `${p} ${s.size} ${s.mtimeMs}`;
    });
}

// `openclaw models auth login` (OAuth) only runs interactively (browser or
// device code), so these stores are written with OpenClaw's own schema and
// profile JSON (auth_profile_store / store_json as openclaw 2026.9.6 writes it).
describe("provider check on OAuth and mixed credentials (store written with OpenClaw's schema)", () => {
  let home: string;
  let stateDir: string;
  const REFRESH = "clawfleet-FAKE-oauth-refresh-7e1d";
  const ACCESS = "clawfleet-FAKE-oauth-access-2b9c";
  const RELAY_TOKEN = "sk-ant-oat01-clawfleet-FAKE-relay";
  const RELAY_ENV_KEY = "sk-ant-clawfleet-FAKE-relay-env";
  const past = Date.now() - 3_600_000;

  function store(agentDir: string, profiles: Record<string, unknown>): void {
    mkdirSync(agentDir, { recursive: true });
    const db = new DatabaseSync(join(agentDir, "openclaw-agent.sqlite"));
    db.exec("PRAGMA journal_mode = WAL; CREATE TABLE auth_profile_store (store_key TEXT NOT NULL PRIMARY KEY, store_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT;");
    db.prepare("INSERT INTO auth_profile_store VALUES ('primary', ?, ?)").run(JSON.stringify({ version: 1, profiles }), Date.now());
    db.close();
  }

  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), "clawfleet-oauth-"));
    stateDir = join(home, ".openclaw");
    mkdirSync(stateDir);
    writeFileSync(join(stateDir, "openclaw.json"), JSON.stringify({
      agents: {
        entries: {
          pilot: { model: { primary: "anthropic/claude-opus-4-6", fallbacks: ["minimax-portal/MiniMax-M2.7", "github-copilot/gpt-5.4"] } },
          relay: { model: "anthropic/claude-sonnet-5" },
        },
      },
    }));
    store(join(stateDir, "agents", "pilot", "agent"), {
      // Access token ran out an hour ago, refresh token present: renewed on the next call.
      "anthropic:claude": { type: "oauth", provider: "anthropic", access: ACCESS, refresh: REFRESH, expires: past },
      // Expired and nothing to renew it with.
      "minimax-portal:default": { type: "oauth", provider: "minimax-portal", access: ACCESS, expires: past },
      // A gateway claimed the refresh and it failed: OpenClaw's inert fence marker.
      "github-copilot:github": { type: "oauth", provider: "github-copilot", access: `openclaw-oauth-refresh-fence:v1:${"a".repeat(32)}:failed:access:${"b".repeat(64)}`, refresh: `openclaw-oauth-refresh-fence:v1:${"a".repeat(32)}:failed:refresh:${"c".repeat(64)}`, expires: 1 },
    });
    store(join(stateDir, "agents", "relay", "agent"), { "anthropic:manual": { type: "token", provider: "anthropic", token: RELAY_TOKEN, expires: past } });
  });

  afterAll(() => {
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("passes a refreshable OAuth profile, fails an expired one without a refresh token or with a failed refresh, and warns when env covers an expired token", async () => {
    const shell = { HOME: home, OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_PORT: String(await freePort()), ANTHROPIC_API_KEY: RELAY_ENV_KEY };
    const watch = watchChecks("runChecks([providerCheck])", shell);
    const world = discoverOpenClaw(shell);
    const run = await runChecks([providerCheck], { world, fingerprint: localFingerprint, runner: systemRunner, platform: process.platform });
    expect(endWatch(watch, { reported: true })).toBeUndefined();
    const find = (agent: string, provider: string) => run.findings.find((f) => f.evidence.agent === agent && f.evidence.provider === provider);
    expect(find("pilot", "anthropic")).toMatchObject({ status: "ok", evidence: { source: "auth store profile anthropic:claude", fingerprint: localFingerprint(REFRESH), accessExpiresAt: new Date(past).toISOString() } });
    expect(find("pilot", "minimax-portal")).toMatchObject({ status: "fail", code: "credential_expired", evidence: { profile: "minimax-portal:default", type: "oauth", expiresAt: new Date(past).toISOString() } });
    expect(find("pilot", "github-copilot")).toMatchObject({ status: "fail", code: "credential_expired", evidence: { profile: "github-copilot:github" } });
    expect(find("pilot", "github-copilot")!.summary).toContain("failed to refresh");
    // The expired token is skipped and ANTHROPIC_API_KEY serves: it works, but the dead profile is worth a warning.
    expect(find("relay", "anthropic")).toMatchObject({ status: "warn", code: "credential_expired", evidence: { source: "env ANTHROPIC_API_KEY", fingerprint: localFingerprint(RELAY_ENV_KEY), profile: "anthropic:manual" } });
    const text = JSON.stringify(run.findings);
    for (const secret of [REFRESH, ACCESS, RELAY_TOKEN, RELAY_ENV_KEY]) expect(text).not.toContain(secret);
  });
});
