// The startup judge with the gateway's log given (the log observation lands
// from another branch): recorded refusals of the real pinned gateway
// (test/fixtures/gateway-logs, origin in its README), and the preconditions
// it reads from disk, including those a gateway here cannot be put in.
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { gatewayCheck } from "../../agent/checks/gateway.ts";
import { runChecks } from "../../agent/checks/run-checks.ts";
import { startupCheck } from "../../agent/checks/startup.ts";
import { FATAL_LINES, matchFatalLine } from "../../agent/discovery/gateway-fatal-lines.ts";
import type { ServiceDefinition } from "../../agent/discovery/gateway-service.ts";
import { discoverOpenClaw } from "../../agent/discovery/openclaw-world.ts";
import type { GatewayLog, LogLine } from "../../agent/observations/gateway-log.ts";
import { replayRunner } from "../../agent/platform/command-runner.ts";
import { localFingerprint } from "../../shared/fingerprint.ts";
import { runCheckWith } from "../helpers/check-context.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/gateway-logs/", import.meta.url));
const DIST = fileURLToPath(new URL("../openclaw/node_modules/openclaw/dist/", import.meta.url));
const INSTALL = fileURLToPath(new URL("../openclaw/node_modules/openclaw", import.meta.url));

const root = mkdtempSync(join(tmpdir(), "clawfleet-startup-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let homes = 0;

/** A host with this openclaw.json (none when undefined) and this shell environment. */
function world(config?: Record<string, unknown>, shell: Record<string, string> = {}) {
  const home = join(root, `h${homes++}`);
  mkdirSync(join(home, ".openclaw"), { recursive: true, mode: 0o700 });
  if (config) writeFileSync(join(home, ".openclaw", "openclaw.json"), JSON.stringify(config));
  return discoverOpenClaw({ HOME: home, PATH: "/nonexistent", OPENCLAW_GATEWAY_PORT: "18789", ...shell });
}

/** A recorded log as the gateway-log observation gives it: one line per line, timestamps read. */
function recordedLog(file: string): GatewayLog {
  const where = join(FIXTURES, file);
  const lines: LogLine[] = readFileSync(where, "utf8").split("\n").filter(Boolean).map((text) => {
    const at = /^(\d{4}-\d\d-\d\dT[\d:.]+[+-]\d\d:\d\d) /.exec(text)?.[1];
    return { where, text, ...(at ? { atMs: Date.parse(at) } : {}) };
  });
  return { sources: [{ kind: "openclaw-file", where }], lines };
}

const noLog: GatewayLog = { sources: [], lines: [] };
const down = { loopback: false, "port-owner": { listenAddresses: [] }, services: { services: [], errors: [] } };

/** gateway + startup together, as `agent check` links them. */
async function triage(w: ReturnType<typeof world>, observations: Record<string, unknown>) {
  const preset = new Map(Object.entries({ "gateway-processes": [], readiness: { ready: false, failing: [], httpStatus: 0 }, ...down, ...observations }));
  return runChecks([gatewayCheck, startupCheck], { world: w, fingerprint: localFingerprint, runner: replayRunner({}), platform: "linux", preset });
}

function unit(home: string, overrides: Partial<ServiceDefinition> = {}): ServiceDefinition {
  return {
    manager: "systemd",
    name: "openclaw-gateway.service",
    definitionPath: join(home, ".config/systemd/user/openclaw-gateway.service"),
    loaded: true,
    state: "failed",
    programArguments: [process.execPath, join(INSTALL, "openclaw.mjs"), "gateway", "--port", "18789"],
    environment: { HOME: home },
    environmentSources: {},
    envFiles: [],
    servicePath: "/usr/bin",
    ...overrides,
  };
}

describe("the fatal-line table", () => {
  it("holds only texts of the pinned OpenClaw for the entries seen in 2026.9.6 (verbatim in dist/, or in a recorded refusal)", () => {
    const recorded = ["bind-lan-auth-none.log", "tailscale-serve-bind-lan.log", "config-unknown-key.log", "auth-token-env-secretref-unset.log"].map((f) => readFileSync(join(FIXTURES, f), "utf8")).join("\n");
    // Texts the gateway builds from a template: the template as dist/ holds it (server-start-*.mjs: `serviceName = "gateway"` by default).
    const templates: Record<string, string> = { "another gateway instance is already listening on ": "another ${serviceName} instance is already listening on " };
    for (const entry of FATAL_LINES.filter((e) => e.seenIn.includes("2026.9.6"))) {
      if (recorded.includes(entry.prefix)) continue;
      // grep exits 1 when no file has the text: execFileSync throws, failing the test with the prefix in view.
      const files = execFileSync("grep", ["-rlF", "--include=*.mjs", "--", templates[entry.prefix] ?? entry.prefix, DIST], { encoding: "utf8" });
      expect(files.length, entry.prefix).toBeGreaterThan(0);
    }
  });

  it("maps each recorded refusal of the real gateway to its cause, the specific text before the generic one", () => {
    const newest = (file: string) => recordedLog(file).lines.map((l) => matchFatalLine(l.text)?.entry.code).filter(Boolean).at(-1);
    expect(newest("bind-lan-auth-none.log")).toBe("bind_without_auth");
    expect(newest("tailscale-serve-bind-lan.log")).toBe("tailscale_bind_conflict");
    expect(newest("config-unknown-key.log")).toBe("config_refused");
    expect(newest("auth-token-env-secretref-unset.log")).toBe("secret_unresolved");
    expect(newest("auth-token-mode-no-token.log")).toBeUndefined();
  });
});

describe("the startup judge reads the gateway's own words", () => {
  it("makes the newest refusal the primary cause, with the line as evidence, and the down gateway its consequence", async () => {
    const run = await triage(world({ gateway: { bind: "lan", auth: { mode: "none" } } }), { "gateway-log": recordedLog("bind-lan-auth-none.log") });
    const cause = run.findings.find((f) => f.code === "bind_without_auth")!;
    expect(run.primary?.code).toBe("bind_without_auth");
    expect(cause).toMatchObject({ check: "startup", layer: "gateway", status: "fail", evidence: { bind: "lan", authMode: "none", line: expect.stringContaining("Refusing to bind gateway to lan without auth."), loggedAt: "2026-12-05T09:55:16.896Z" } });
    // The precondition and the log line are one fact: one finding.
    expect(run.findings.filter((f) => f.code === "bind_without_auth")).toHaveLength(1);
    expect(run.findings.find((f) => f.code === "not_running")!.dependsOn).toBe("bind_without_auth");
  });

  it("names a cause only the log knows (schema errors are not read from disk)", async () => {
    const run = await triage(world({ gateway: { bogusKey: 1 } }), { "gateway-log": recordedLog("config-unknown-key.log") });
    expect(run.primary).toMatchObject({ code: "config_refused", check: "startup", layer: "gateway", evidence: { line: expect.stringContaining("Invalid config at") } });
    expect(run.findings.find((f) => f.code === "not_running")!.dependsOn).toBe("config_refused");
  });

  it("gateway_locked: the state dir's lock held by another OpenClaw process (a real gateway waits 5 min for it, too long to stage here)", async () => {
    // The text as dist/gateway-lock-*.mjs builds it: `gateway already running${ownerPid}; lock timeout after ${timeoutMs}ms`.
    const line = "2026-12-05T10:30:00.000+00:00 Gateway failed to start: gateway already running (pid 4242); lock timeout after 300000ms";
    const log: GatewayLog = { sources: [{ kind: "journal", where: "openclaw-gateway.service" }], lines: [{ where: "openclaw-gateway.service", atMs: Date.parse("2026-12-05T10:30:00Z"), text: line }] };
    const w = world({});
    const run = await triage(w, { "gateway-log": log });
    expect(run.primary).toMatchObject({ code: "gateway_locked", evidence: { line, logSource: "openclaw-gateway.service", stateDir: w.stateDir } });
    expect(run.primary!.action).toContain(w.stateDir);
    expect(run.findings.find((f) => f.code === "not_running")!.dependsOn).toBe("gateway_locked");
  });

  it("ignores a refusal the gateway overcame: it served after it", async () => {
    const log = recordedLog("config-unknown-key.log");
    log.lines.push({ where: "x", text: "2026-12-05T10:00:00.000+00:00 [gateway] http server listening (14 plugins: …; 25.6s)" });
    const findings = await runCheckWith(startupCheck, world({}), { ...down, "gateway-log": log });
    expect(findings).toMatchObject([{ status: "ok", code: "" }]);
    const run = await triage(world({}), { "gateway-log": log });
    expect(run.primary?.code).toBe("not_running");
  });

  it("does not judge the log or the next start of a gateway that serves (a gateway-layer finding pages as down)", async () => {
    const w = world({ gateway: { bind: "lan", tailscale: { mode: "serve" }, auth: { mode: "token", token: "cf-startup-token-0123456789" } } });
    const owner = { listenAddresses: ["127.0.0.1"], pid: 7, gateway: { pid: 7, argv: ["openclaw-gateway"], installDir: INSTALL, version: "2026.9.6", stateDir: w.stateDir, tokenOnCommandLine: false } };
    const findings = await runCheckWith(startupCheck, w, { ...down, loopback: true, "port-owner": owner, "gateway-log": recordedLog("bind-lan-auth-none.log") });
    expect(findings).toMatchObject([{ status: "ok", code: "" }]);
  });

  it("names a config that does not parse as what keeps a down gateway down, with or without its log line, once", async () => {
    const w = world();
    writeFileSync(w.config.path, "{ gateway: ");
    const broken = discoverOpenClaw({ HOME: w.home, PATH: "/nonexistent" });
    for (const log of [recordedLog("config-unknown-key.log"), { sources: [], lines: [] }]) {
      const findings = await runCheckWith(startupCheck, broken, { ...down, "gateway-log": log });
      expect(findings.filter((f) => f.code === "config_refused")).toHaveLength(1);
      expect(findings.find((f) => f.code === "config_refused")).toMatchObject({ layer: "gateway", status: "fail", evidence: { configPath: broken.config.path } });
    }
  });
});

describe("preconditions read without a log", () => {
  it("tailscale_bind_conflict: Tailscale serve with gateway.bind lan", async () => {
    const run = await triage(world({ gateway: { bind: "lan", tailscale: { mode: "serve" }, auth: { mode: "token", token: "cf-startup-token-0123456789" } } }), { "gateway-log": noLog });
    expect(run.primary).toMatchObject({ code: "tailscale_bind_conflict", evidence: { tailscaleMode: "serve", bind: "lan" } });
    expect(run.findings.find((f) => f.code === "not_running")!.dependsOn).toBe("tailscale_bind_conflict");
  });

  it("port_in_use: names the pid and executable of a process that is not a gateway, and what answers on the port is its consequence", async () => {
    const owner = { listenAddresses: ["127.0.0.1"], pid: 4242, gateway: { pid: 4242, argv: ["python3", "-m", "http.server", "18789"], exe: "/usr/bin/python3.12", tokenOnCommandLine: false } };
    const run = await triage(world({}), { loopback: true, "port-owner": owner, "gateway-log": noLog, readiness: { ready: false, failing: [], httpStatus: 404 } });
    expect(run.primary).toMatchObject({ code: "port_in_use", status: "fail", evidence: { pid: "4242", executable: "/usr/bin/python3.12", port: "18789" } });
    expect(run.primary!.action).toContain("pid 4242 (/usr/bin/python3.12)");
    expect(run.findings.find((f) => f.code === "not_ready")!.dependsOn).toBe("port_in_use");
  });

  it("port_in_use: a gateway serving another state dir holds the port", async () => {
    const owner = { listenAddresses: ["127.0.0.1"], pid: 5, gateway: { pid: 5, argv: ["openclaw-gateway"], installDir: INSTALL, stateDir: "/home/other/.openclaw", tokenOnCommandLine: false } };
    const findings = await runCheckWith(startupCheck, world({}), { ...down, loopback: true, "port-owner": owner, "gateway-log": noLog });
    expect(findings[0]).toMatchObject({ code: "port_in_use", evidence: { executable: "an OpenClaw gateway for another state dir, /home/other/.openclaw" } });
  });

  it("service_program_missing: the service's Node was removed by a version manager", async () => {
    const w = world({});
    const service = unit(w.home, { programArguments: ["/home/op/.nvm/versions/node/v22.1.0/bin/node", join(INSTALL, "openclaw.mjs"), "gateway"] });
    const run = await triage(w, { services: { services: [service], errors: [] }, "gateway-log": noLog });
    expect(run.primary).toMatchObject({ code: "service_program_missing", evidence: { program: "/home/op/.nvm/versions/node/v22.1.0/bin/node" } });
    expect(run.findings.find((f) => f.code === "not_running")!.dependsOn).toBe("service_program_missing");
  });

  it("openclaw_downgraded: meta.lastTouchedVersion newer than the install the service runs (semver, not string order)", async () => {
    const w = world({ meta: { lastTouchedVersion: "2026.10.1" } });
    const run = await triage(w, { services: { services: [unit(w.home)], errors: [] }, "gateway-log": noLog });
    expect(run.primary).toMatchObject({ code: "openclaw_downgraded", evidence: { writerVersion: "2026.10.1", serviceVersion: "2026.9.6", program: INSTALL } });
    const same = world({ meta: { lastTouchedVersion: "2026.9.6" } });
    expect((await runCheckWith(startupCheck, same, { ...down, services: { services: [unit(same.home)], errors: [] }, "gateway-log": noLog }))[0]!.status).toBe("ok");
  });

  it("secret_unresolved: an env SecretRef of the gateway's token the service's environment does not set (the shell's does not count)", async () => {
    const w = world({ gateway: { auth: { mode: "token", token: { source: "env", provider: "default", id: "CF_GATEWAY_SECRET" } } } }, { CF_GATEWAY_SECRET: "cf-only-in-this-shell-0123456789" });
    const run = await triage(w, { services: { services: [unit(w.home)], errors: [] }, "gateway-log": noLog });
    expect(run.primary).toMatchObject({ code: "secret_unresolved", evidence: { variable: "CF_GATEWAY_SECRET", configKey: "gateway.auth.token" } });
    expect(run.findings.map((f) => f.code)).not.toContain("auth_unconfigured");
    expect(JSON.stringify(run)).not.toContain("cf-only-in-this-shell-0123456789");
  });

  it("bind_without_auth: the service's --bind lan with no token anywhere the gateway looks", async () => {
    const w = world({ gateway: { mode: "local" } });
    const service = unit(w.home, { programArguments: [process.execPath, join(INSTALL, "openclaw.mjs"), "gateway", "--bind", "lan"] });
    const findings = await runCheckWith(startupCheck, w, { ...down, services: { services: [service], errors: [] }, "gateway-log": noLog });
    expect(findings.map((f) => f.code)).toEqual(["bind_without_auth"]);
    expect(findings[0]!.evidence).toMatchObject({ bind: "lan", authMode: "token" });
  });

  it("auth_unconfigured: __OPENCLAW_REDACTED__ as the service's gateway token is one finding (OpenClaw refuses the sentinel), not also a placeholder", async () => {
    const w = world({}, { OPENCLAW_GATEWAY_TOKEN: "cf-client-token-0123456789" });
    const service = unit(w.home, { environment: { HOME: w.home, OPENCLAW_GATEWAY_TOKEN: "__OPENCLAW_REDACTED__" }, environmentSources: { OPENCLAW_GATEWAY_TOKEN: { kind: "unit-environment", path: "/u/openclaw-gateway.service" } } });
    const run = await triage(w, { services: { services: [service], errors: [] }, "gateway-log": noLog });
    expect(run.findings.filter((f) => f.check === "startup").map((f) => f.code)).toEqual(["auth_unconfigured"]);
    expect(run.primary).toMatchObject({ code: "auth_unconfigured", evidence: { placeholder: "__OPENCLAW_REDACTED__", variable: "OPENCLAW_GATEWAY_TOKEN" } });
    expect(run.primary!.summary).toContain("known redaction sentinel");
    expect(run.findings.find((f) => f.code === "not_running")!.dependsOn).toBe("auth_unconfigured");
  });

  it("secret_placeholder: a placeholder where another secret belongs (a provider key) is drift, not a startup blocker", async () => {
    const w = world({ models: { providers: { openai: { apiKey: "__OPENCLAW_REDACTED__" } } } });
    const run = await triage(w, { "gateway-log": noLog });
    expect(run.findings.find((f) => f.code === "secret_placeholder")).toMatchObject({ layer: "drift", status: "fail", evidence: { variable: "models.providers.openai.apiKey", placeholder: "__OPENCLAW_REDACTED__" } });
    expect(run.primary?.code).toBe("not_running");
  });

  it("auth_unconfigured: token mode with no token the service can reach, while clients hold one", async () => {
    const w = world({ gateway: { auth: { mode: "token" } } }, { OPENCLAW_GATEWAY_TOKEN: "cf-client-token-0123456789" });
    const findings = await runCheckWith(startupCheck, w, { ...down, services: { services: [unit(w.home)], errors: [] }, "gateway-log": noLog });
    expect(findings.map((f) => [f.code, f.status])).toEqual([["auth_unconfigured", "fail"]]);
    expect(findings[0]!.summary).toContain("set only in this shell");
  });

  it("finds nothing on a default host: no config, no service, nothing on the port", async () => {
    const findings = await runCheckWith(startupCheck, world(), { ...down, "gateway-log": noLog });
    expect(findings).toMatchObject([{ status: "ok", code: "" }]);
  });
});
