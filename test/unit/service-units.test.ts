// The agent's own service files, generated from the gateway's service as
// OpenClaw installs it (test/fixtures/macos, test/fixtures/systemd: plists and
// units from OpenClaw's own builders) on a temp HOME, with launchctl/systemctl
// answers replayed. What is checked: the files parse (plist as XML plist, the
// unit with our systemd parser and, where it can run, `systemd-analyze
// verify`), they run `agent run` with flags it accepts, they carry the
// gateway's PATH and world variables, and no secret value reaches the file or
// the dry-run output.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parsePlist } from "plist";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCommand } from "../../agent/cli/run-command.ts";
import { findGatewayServices } from "../../agent/discovery/find-gateway-service.ts";
import { replayRunner, type Recording } from "../../agent/platform/command-runner.ts";
import { OPENCLAW_SERVICE_ENV_HEADER } from "../../agent/discovery/dotenv-service-env.ts";
import { readLaunchAgentPlist } from "../../agent/platform/launchd.ts";
import { parseUnitFile } from "../../agent/platform/systemd.ts";
import { evaluateDirectives } from "../../agent/discovery/systemd-service.ts";
import { AGENT_LAUNCHD_LABEL, AGENT_NODE_FLAGS, AGENT_SYSTEMD_UNIT, type AgentServiceSpec } from "../../agent/service/agent-service-spec.ts";
import { describePlan, planAgentService, type InstallInput } from "../../agent/service/install-plan.ts";
import { launchdAgentPlist } from "../../agent/service/launchd-agent-plist.ts";
import { launcherPath } from "../../agent/service/program-paths.ts";
import { isSecretName, looksLikeCredential } from "../../agent/discovery/secret-shapes.ts";
import { systemdAgentUnit } from "../../agent/service/systemd-agent-unit.ts";
import { parseFlags } from "../../shared/cli.ts";
import { fill, loadFixture, recordings } from "../fixtures/macos/recording.ts";

const MACOS = join(import.meta.dirname, "../fixtures/macos");
const SYSTEMD = join(import.meta.dirname, "../fixtures/systemd");
const GATEWAY_TOKEN = "test-gateway-token-5eb1c0ffee5eb1c0ffee";
const PROVIDER_KEY = "sk-ant-test-2222222222222222222222222222";
const INLINE_SECRET = "test-inline-password-9f9f9f9f9f9f";
const SECRETS = [GATEWAY_TOKEN, PROVIDER_KEY, INLINE_SECRET];
const FLAGS = { collector: "fleet.example.ts.net:4317", nodeId: "mini-07", interval: "45s", stateDir: "/srv/clawfleet agent/state" };

function hasSystemdAnalyze(): boolean {
  return spawnSync("systemd-analyze", ["--version"], { stdio: "ignore" }).status === 0;
}

/** `systemd-analyze verify` in a scratch runtime dir (the container has no user session); stderr must be empty. */
function systemdVerify(unitPath: string, user: boolean, scratch: string): { status: number | null; stderr: string } {
  const runtime = join(scratch, "runtime");
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  const result = spawnSync("systemd-analyze", ["verify", "--man=no", ...(user ? ["--user"] : []), unitPath], {
    env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: runtime, HOME: scratch, SYSTEMD_LOG_COLOR: "0" },
    encoding: "utf8",
    timeout: 15_000,
  });
  return { status: result.status, stderr: result.stderr.trim() };
}

function expectNoSecrets(...texts: string[]): void {
  for (const text of texts) for (const secret of SECRETS) expect(text).not.toContain(secret);
}

describe("agent systemd user unit", () => {
  let home: string;
  let stateDir: string;
  let units: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "clawfleet-svc-systemd-"));
    stateDir = join(home, ".openclaw");
    units = join(home, ".config", "systemd", "user");
    mkdirSync(units, { recursive: true });
    mkdirSync(stateDir, { recursive: true });
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  const gatewayUnit = () => readFileSync(join(SYSTEMD, "openclaw-gateway.service.template"), "utf8").replaceAll("{{HOME}}", home).replaceAll("{{STATE_DIR}}", stateDir);
  const envFile = () => join(stateDir, "gateway.systemd.env");
  /** No user bus, as recorded on the CI host; lingering as loginctl reports it. */
  const world = (linger: Recording = { stdout: "Linger=no\n" }): Record<string, Recording> => ({
    ...recordings(fill(loadFixture(join(SYSTEMD, "systemctl-user-no-bus.txt")), { HOME: home, STATE_DIR: stateDir })),
    "loginctl show-user oc --property=Linger": linger,
  });
  const input = (table: Record<string, Recording>, env: Record<string, string> = {}): InstallInput => ({
    platform: "linux",
    runner: replayRunner(table),
    env: { HOME: home, USER: "oc", ...env },
    home,
    uid: 1000,
    userName: "oc",
    hostname: "gw-07",
    flags: FLAGS,
    execPath: process.execPath,
    nodePath: "/usr/bin/node",
    launcher: "/usr/lib/node_modules/clawfleet/bin/clawfleet.js",
    version: "0.0.0-test",
  });
  const evaluate = (text: string, path: string) => {
    const parsed = parseUnitFile(text, path);
    const evaluated = evaluateDirectives(parsed.directives, { unitName: AGENT_SYSTEMD_UNIT, home, uid: 1000 });
    return { ...evaluated, problems: [...parsed.problems, ...evaluated.problems], directives: parsed.directives };
  };

  it("copies the gateway unit's PATH and OpenClaw variables, loads its EnvironmentFile= by reference, and runs `agent run` with every flag", async () => {
    writeFileSync(join(units, "openclaw-gateway.service"), gatewayUnit());
    writeFileSync(envFile(), `OPENCLAW_GATEWAY_TOKEN=${GATEWAY_TOKEN}\nANTHROPIC_API_KEY=${PROVIDER_KEY}\n`, { mode: 0o600 });
    const plan = await planAgentService(input(world()));

    expect(plan.manager).toBe("systemd");
    expect(plan.path).toBe(join(units, AGENT_SYSTEMD_UNIT));
    expect(plan.gateway).toMatchObject({ name: "openclaw-gateway.service", definitionPath: join(units, "openclaw-gateway.service") });
    const unit = evaluate(plan.content, plan.path);
    expect(unit.problems).toEqual([]);
    expect(unit.execStart).toEqual([
      "/usr/bin/node", ...AGENT_NODE_FLAGS, "/usr/lib/node_modules/clawfleet/bin/clawfleet.js", "agent", "run",
      "--collector", "fleet.example.ts.net:4317", "--node-id", "mini-07", "--interval", "45s", "--state-dir", "/srv/clawfleet agent/state",
    ]);
    expect(Object.fromEntries(unit.environment)).toEqual({
      HOME: home,
      PATH: "/usr/local/bin:/usr/bin:/bin",
      OPENCLAW_GATEWAY_PORT: "18789",
      OPENCLAW_STATE_DIR: stateDir,
      OPENCLAW_SYSTEMD_UNIT: "openclaw-gateway.service",
    });
    // The gateway's own file, optional so the agent starts even when it is gone.
    expect(unit.environmentFiles).toEqual([{ path: envFile(), optional: true }]);
    const keys = (section: string) => unit.directives.filter((d) => d.section === section).map((d) => `${d.key}=${d.value}`);
    expect(keys("Install")).toEqual(["WantedBy=default.target"]);
    expect(keys("Service")).toEqual(expect.arrayContaining(["Restart=always", "RestartPreventExitStatus=2", "NoNewPrivileges=yes", "UMask=0077"]));

    // What it copied, referenced and left out is said, by name only.
    const dryRun = describePlan(plan);
    expect(dryRun).toContain(`Would write ${plan.path}`);
    expect(dryRun).toMatch(/copied\s+HOME, OPENCLAW_GATEWAY_PORT, OPENCLAW_STATE_DIR, OPENCLAW_SYSTEMD_UNIT, PATH/);
    expect(dryRun).toContain(`ANTHROPIC_API_KEY, OPENCLAW_GATEWAY_TOKEN: EnvironmentFile=-${envFile()}`);
    expect(dryRun).toMatch(/skipped\s+.*NODE_OPTIONS \(describes the gateway process/);
    expect(dryRun).toContain("sudo loginctl enable-linger oc");
    expectNoSecrets(plan.content, dryRun);
  });

  it("never copies a secret set inline in the gateway's unit, and says so", async () => {
    writeFileSync(join(units, "openclaw-gateway.service"), gatewayUnit());
    mkdirSync(join(units, "openclaw-gateway.service.d"));
    writeFileSync(join(units, "openclaw-gateway.service.d", "secrets.conf"), `[Service]\nEnvironment=OPENCLAW_GATEWAY_PASSWORD=${INLINE_SECRET}\nEnvironment=OPENCLAW_GATEWAY_TOKEN=${GATEWAY_TOKEN}\nEnvironment=HTTPS_PROXY=http://user:${PROVIDER_KEY}@proxy.internal:3128\n`);
    const plan = await planAgentService(input(world()));
    const dryRun = describePlan(plan);
    expect(plan.decisions.filter((d) => d.action === "secret").map((d) => d.name)).toEqual(["HTTPS_PROXY", "OPENCLAW_GATEWAY_PASSWORD", "OPENCLAW_GATEWAY_TOKEN"]);
    expect(dryRun).toMatch(/not copied\s+HTTPS_PROXY, OPENCLAW_GATEWAY_PASSWORD, OPENCLAW_GATEWAY_TOKEN: secrets/);
    expect(dryRun).toContain("Not copied, deliberately: HTTPS_PROXY, OPENCLAW_GATEWAY_PASSWORD, OPENCLAW_GATEWAY_TOKEN");
    expect(plan.content).toContain("Not copied, deliberately (secrets): HTTPS_PROXY, OPENCLAW_GATEWAY_PASSWORD, OPENCLAW_GATEWAY_TOKEN");
    expectNoSecrets(plan.content, dryRun);
  });

  it("without a gateway unit, uses this shell's PATH and OpenClaw variables and says the gateway service was not found", async () => {
    const plan = await planAgentService(input(world({ stdout: "Linger=yes\n" }), { PATH: "/opt/node24/bin:/usr/bin:/bin", OPENCLAW_PROFILE: "work", OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN, XDG_RUNTIME_DIR: "/run/user/1000", EDITOR: "vi" }));
    expect(plan.gateway).toBeUndefined();
    const unit = evaluate(plan.content, plan.path);
    // The session's XDG_RUNTIME_DIR and unrelated shell variables stay out.
    expect(Object.fromEntries(unit.environment)).toEqual({ HOME: home, PATH: "/opt/node24/bin:/usr/bin:/bin", OPENCLAW_PROFILE: "work" });
    expect(unit.environmentFiles).toEqual([]);
    expect(plan.notes.join("\n")).toContain("No gateway service found (looked for openclaw-gateway-work.service");
    expect(plan.notes.join("\n")).toContain("Lingering is on for oc");
    expectNoSecrets(plan.content, describePlan(plan));
  });

  it("passes only flags `agent run` accepts, with values it accepts", async () => {
    writeFileSync(join(units, "openclaw-gateway.service"), gatewayUnit());
    const plan = await planAgentService(input(world()));
    const argv = evaluate(plan.content, plan.path).execStart;
    const nodeFlags = argv.slice(1, 1 + AGENT_NODE_FLAGS.length);
    expect(nodeFlags).toEqual(AGENT_NODE_FLAGS);
    // Node exits 9 ("bad option") on a flag it does not know: the unit would never start.
    expect(spawnSync(process.execPath, [...nodeFlags, "-e", "0"]).status).toBe(0);
    const rest = argv.slice(1 + AGENT_NODE_FLAGS.length);
    expect(rest.slice(1, 3)).toEqual(runCommand.path);
    const { values, positionals } = parseFlags(runCommand.options, rest.slice(3));
    expect(positionals).toEqual([]);
    expect(values).toEqual({ collector: FLAGS.collector, "node-id": FLAGS.nodeId, interval: FLAGS.interval, "state-dir": FLAGS.stateDir });
  });

  it("carries a collector list and an SRV name through to `agent run` unchanged", async () => {
    writeFileSync(join(units, "openclaw-gateway.service"), gatewayUnit());
    for (const collector of ["a.example.ts.net:4317,b.example.ts.net:4317", "srv:_clawfleet._tcp.example.ts.net"]) {
      const plan = await planAgentService({ ...input(world()), flags: { ...FLAGS, collector } });
      const argv = evaluate(plan.content, plan.path).execStart;
      const { values } = parseFlags(runCommand.options, argv.slice(1 + AGENT_NODE_FLAGS.length + 3));
      expect(values.collector).toBe(collector);
    }
  });

  it("is not mistaken for a gateway unit by the agent's own service discovery", async () => {
    writeFileSync(join(units, "openclaw-gateway.service"), gatewayUnit());
    const plan = await planAgentService(input(world()));
    writeFileSync(plan.path, plan.content);
    const services = await findGatewayServices({ runner: replayRunner(world()), env: { HOME: home }, home, stateDir, uid: 1000 }, "linux");
    expect(services.map((s) => s.name)).toEqual(["openclaw-gateway.service"]);
  });

  it("escapes what systemd would expand: spaces, quotes, backslashes, % and $ survive a round trip", () => {
    const spec: AgentServiceSpec = {
      programArguments: ["/opt/node 24/bin/node", "/srv/clawfleet/bin/clawfleet.js", "agent", "run", "--state-dir", `/srv/50% "done"\\x/state`],
      environment: { PATH: "/a b:/usr/bin", OPENCLAW_CONFIG_PATH: `/srv/it's "q" 100%/$HOME\\openclaw.json`, LANG: "en_US.UTF-8" },
      environmentFiles: ["/srv/state 1/gateway%.env"],
      comment: ["round trip"],
    };
    const unit = evaluate(systemdAgentUnit(spec), "/tmp/x.service");
    expect(unit.problems).toEqual([]);
    expect(unit.execStart).toEqual(spec.programArguments);
    expect(Object.fromEntries(unit.environment)).toEqual(spec.environment);
    expect(unit.environmentFiles).toEqual([{ path: "/srv/state 1/gateway%.env", optional: true }]);
    // `$` would be an environment expansion in ExecStart=: it is doubled there.
    expect(systemdAgentUnit({ ...spec, programArguments: ["/bin/node", "/a/$HOME/x"] })).toContain("ExecStart=/bin/node /a/$$HOME/x");
  });

  it.skipIf(!hasSystemdAnalyze())("passes `systemd-analyze verify --user` (Debian's systemd)", async () => {
    writeFileSync(join(units, "openclaw-gateway.service"), gatewayUnit());
    writeFileSync(envFile(), `OPENCLAW_GATEWAY_TOKEN=${GATEWAY_TOKEN}\n`, { mode: 0o600 });
    // verify checks that ExecStart's program exists: use this Node and this checkout's launcher.
    const plan = await planAgentService({ ...input(world()), nodePath: process.execPath, launcher: launcherPath(), flags: { ...FLAGS, stateDir: join(home, "state dir") } });
    const scratch = join(home, "verify");
    mkdirSync(scratch);
    const path = join(scratch, AGENT_SYSTEMD_UNIT);
    writeFileSync(path, plan.content);
    expect(systemdVerify(path, true, scratch)).toEqual({ status: 0, stderr: "" });
    // The check is real: an unknown key in the same file is reported.
    writeFileSync(path, plan.content.replace("[Service]\n", "[Service]\nNotAKey=1\n"));
    expect(systemdVerify(path, true, scratch).stderr).toMatch(/Unknown key 'NotAKey'/);
  });
});

describe("agent launchd LaunchAgent", () => {
  let home: string;
  let stateDir: string;
  let agents: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "clawfleet-svc-launchd-"));
    stateDir = join(home, ".openclaw");
    agents = join(home, "Library", "LaunchAgents");
    mkdirSync(agents, { recursive: true });
    mkdirSync(join(stateDir, "service-env"), { recursive: true });
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  const template = (name: string) => readFileSync(join(MACOS, name), "utf8").replaceAll("{{HOME}}", home).replaceAll("{{STATE_DIR}}", stateDir);
  const serviceEnv = (values: Record<string, string>) =>
    [OPENCLAW_SERVICE_ENV_HEADER, ...Object.entries(values).map(([k, v]) => `export ${k}='${v.replaceAll("'", "'\\''")}'`), ""].join("\n");
  const notLoaded = (label: string): Record<string, Recording> => {
    const recorded = loadFixture(join(MACOS, "launchctl-print-not-loaded.txt"));
    return recordings({ ...recorded, command: `launchctl print gui/501/${label}`, stderr: recorded.stderr!.replaceAll("ai.openclaw.gateway", label) });
  };
  const running = () => recordings(loadFixture(join(MACOS, "launchctl-print-running.txt")));
  const input = (table: Record<string, Recording>, env: Record<string, string> = {}): InstallInput => ({
    platform: "darwin",
    runner: replayRunner(table),
    env: { HOME: home, USER: "mini", ...env },
    home,
    uid: 501,
    userName: "mini",
    hostname: "mini-07",
    flags: FLAGS,
    execPath: process.execPath,
    nodePath: "/opt/homebrew/bin/node",
    launcher: "/opt/homebrew/lib/node_modules/clawfleet/bin/clawfleet.js",
    version: "0.0.0-test",
  });

  it("copies PATH and the world variables out of the gateway's service-env file, leaves its secrets out, and parses as a launchd job", async () => {
    writeFileSync(join(agents, "ai.openclaw.gateway.plist"), template("ai.openclaw.gateway.plist.template"));
    writeFileSync(join(stateDir, "service-env", "ai.openclaw.gateway.env"), serviceEnv({
      ANTHROPIC_API_KEY: PROVIDER_KEY,
      HOME: home,
      NODE_OPTIONS: "--max-old-space-size=4096",
      OPENCLAW_GATEWAY_PORT: "18789",
      OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN,
      OPENCLAW_LAUNCHD_LABEL: "ai.openclaw.gateway",
      OPENCLAW_SERVICE_MARKER: "openclaw",
      PATH: "/opt/homebrew/bin:/usr/bin:/bin",
      SLACK_WEBHOOK: "https://hooks.example/T0/B0/xyz",
    }), { mode: 0o600 });
    const plan = await planAgentService(input(running()));

    expect(plan.manager).toBe("launchd");
    expect(plan.path).toBe(join(agents, `${AGENT_LAUNCHD_LABEL}.plist`));
    expect(plan.gateway).toMatchObject({ name: "ai.openclaw.gateway", loaded: true, state: "running" });

    const job = parsePlist(plan.content) as Record<string, unknown>;
    expect(Object.keys(job).sort()).toEqual([
      "EnvironmentVariables", "ExitTimeOut", "KeepAlive", "Label", "ProgramArguments", "RunAtLoad",
      "StandardErrorPath", "StandardInPath", "StandardOutPath", "ThrottleInterval", "Umask",
    ]);
    expect(job).toMatchObject({ Label: "ai.clawfleet.agent", RunAtLoad: true, KeepAlive: true, Umask: 63, StandardOutPath: join(home, "Library", "Logs", "clawfleet-agent.log") });
    expect(job.ProgramArguments).toEqual([
      "/opt/homebrew/bin/node", ...AGENT_NODE_FLAGS, "/opt/homebrew/lib/node_modules/clawfleet/bin/clawfleet.js", "agent", "run",
      "--collector", "fleet.example.ts.net:4317", "--node-id", "mini-07", "--interval", "45s", "--state-dir", "/srv/clawfleet agent/state",
    ]);
    expect(job.EnvironmentVariables).toEqual({ HOME: home, OPENCLAW_GATEWAY_PORT: "18789", OPENCLAW_LAUNCHD_LABEL: "ai.openclaw.gateway", PATH: "/opt/homebrew/bin:/usr/bin:/bin" });

    // The agent's own plist reader (what the checks use) reads it the same way.
    writeFileSync(plan.path, plan.content);
    const read = await readLaunchAgentPlist(plan.path);
    expect(read.ok && read.plist).toMatchObject({ label: AGENT_LAUNCHD_LABEL, programArguments: job.ProgramArguments, environmentVariables: job.EnvironmentVariables, keepAlive: true, runAtLoad: true });

    const dryRun = describePlan(plan);
    expect(dryRun).toMatch(/not copied\s+ANTHROPIC_API_KEY, OPENCLAW_GATEWAY_TOKEN: secrets/);
    expect(dryRun).toMatch(/skipped\s+.*SLACK_WEBHOOK \(not read by OpenClaw's discovery\)/);
    expect(dryRun).toContain("gui/501");
    expectNoSecrets(plan.content, dryRun);
    expect(plan.content).not.toContain("hooks.example");
  });

  it("takes the plist's own EnvironmentVariables on legacy installs, and never a redacted or real token from them", async () => {
    writeFileSync(join(agents, "ai.openclaw.gateway.plist"), template("ai.openclaw.gateway.legacy-env.plist.template").replace("__OPENCLAW_REDACTED__", GATEWAY_TOKEN));
    const plan = await planAgentService(input(notLoaded("ai.openclaw.gateway")));
    const job = parsePlist(plan.content) as { EnvironmentVariables: Record<string, string> };
    expect(job.EnvironmentVariables).toEqual({ HOME: home, PATH: "/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin", OPENCLAW_GATEWAY_PORT: "18789" });
    expect(plan.decisions.filter((d) => d.action === "secret").map((d) => d.name)).toEqual(["ANTHROPIC_API_KEY", "OPENCLAW_GATEWAY_TOKEN"]);
    expect(plan.content).not.toContain("__OPENCLAW_REDACTED__");
    expectNoSecrets(plan.content, describePlan(plan));
  });

  it("uses launchd's default PATH, explicitly, when the gateway's service sets none", async () => {
    writeFileSync(join(agents, "ai.openclaw.gateway.plist"), template("ai.openclaw.gateway.plist.template"));
    writeFileSync(join(stateDir, "service-env", "ai.openclaw.gateway.env"), serviceEnv({ OPENCLAW_GATEWAY_PORT: "18790" }), { mode: 0o600 });
    const plan = await planAgentService(input(notLoaded("ai.openclaw.gateway")));
    const job = parsePlist(plan.content) as { EnvironmentVariables: Record<string, string> };
    expect(job.EnvironmentVariables).toEqual({ OPENCLAW_GATEWAY_PORT: "18790", PATH: "/usr/bin:/bin:/usr/sbin:/sbin" });
    expect(describePlan(plan)).toContain("copied       OPENCLAW_GATEWAY_PORT, PATH");
  });

  it("is not mistaken for a gateway by the agent's own LaunchAgent discovery", async () => {
    writeFileSync(join(agents, "ai.openclaw.gateway.plist"), template("ai.openclaw.gateway.plist.template"));
    const plan = await planAgentService(input(running()));
    writeFileSync(plan.path, plan.content);
    const services = await findGatewayServices({ runner: replayRunner(running()), env: { HOME: home }, home, stateDir, uid: 501 }, "darwin");
    expect(services.map((s) => s.name)).toEqual(["ai.openclaw.gateway"]);
  });

  it("keeps XML special characters and spaces intact and refuses values a plist cannot hold", () => {
    const spec: AgentServiceSpec = {
      programArguments: ["/opt/node/bin/node", "/a & b/<clawfleet>.js", "agent", "run"],
      environment: { PATH: "/x:/y", OPENCLAW_CONFIG_PATH: `/Users/m/it's "a" <cfg> & more.json` },
      environmentFiles: [],
      comment: ["a -- double dash stays out of the XML comment"],
      logPath: "/Users/m/Library/Logs/clawfleet-agent.log",
    };
    const job = parsePlist(launchdAgentPlist(spec)) as Record<string, unknown>;
    expect(job.ProgramArguments).toEqual(spec.programArguments);
    expect(job.EnvironmentVariables).toEqual(spec.environment);
    expect(() => launchdAgentPlist({ ...spec, environment: { BAD: "a\u0001b" } })).toThrow(/BAD holds a control character/);
  });
});

describe("secret detection", () => {
  it("flags credential names and credential-shaped values, not paths, flags or labels", () => {
    for (const name of ["OPENCLAW_GATEWAY_TOKEN", "ANTHROPIC_API_KEY", "CF_ACCESS_CLIENT_SECRET", "OPENCLAW_GATEWAY_PASSWORD", "GITHUB_PAT", "AWS_SECRET_ACCESS_KEY", "BASIC_AUTH"]) expect(isSecretName(name), name).toBe(true);
    for (const name of ["PATH", "HOME", "OPENCLAW_STATE_DIR", "OPENCLAW_GATEWAY_PORT", "AUTHOR", "PATCH_LEVEL"]) expect(isSecretName(name), name).toBe(false);
    for (const value of ["http://u:p@proxy:3128", "sk-ant-abc", "0123456789abcdef0123456789abcdef", "AbCdEfGhIjKlMnOpQrStUv12"]) expect(looksLikeCredential(value), value).toBe(true);
    for (const value of ["/opt/homebrew/bin:/usr/bin:/bin", "--max-old-space-size=4096", "ai.openclaw.gateway", "http://proxy.internal:3128", "en_US.UTF-8"]) expect(looksLikeCredential(value), value).toBe(false);
  });
});

describe("the shipped deploy/ files", () => {
  const ROOT = join(import.meta.dirname, "../..");
  let scratch: string;
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), "clawfleet-deploy-"));
  });
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it("agent examples are exactly what install-service renders (regenerate: node agent/service/deploy-examples.ts --write)", async () => {
    const { deployExamples, EXAMPLE_SECRETS } = await import("../../agent/service/deploy-examples.ts");
    const examples = deployExamples();
    expect(Object.keys(examples).sort()).toEqual(["deploy/launchd/ai.clawfleet.agent.plist", "deploy/systemd/clawfleet-agent.service"]);
    for (const [path, content] of Object.entries(examples)) {
      expect(readFileSync(join(ROOT, path), "utf8"), path).toBe(content);
      for (const secret of EXAMPLE_SECRETS) expect(content).not.toContain(secret);
    }
    const job = parsePlist(examples["deploy/launchd/ai.clawfleet.agent.plist"]!) as Record<string, unknown>;
    expect(job).toMatchObject({ Label: "ai.clawfleet.agent", RunAtLoad: true, KeepAlive: true });
    const unit = examples["deploy/systemd/clawfleet-agent.service"]!;
    expect(parseUnitFile(unit, "clawfleet-agent.service").problems).toEqual([]);
    expect(unit).toContain("# User units stop at logout unless lingering is on: sudo loginctl enable-linger");
  });

  const collectorUnit = () => readFileSync(join(ROOT, "deploy/systemd/clawfleet-collector.service"), "utf8");

  it("collector unit: hardened system service with its SQLite file in StateDirectory= and flags `collector serve` accepts", async () => {
    const { directives, problems } = parseUnitFile(collectorUnit(), "clawfleet-collector.service");
    expect(problems).toEqual([]);
    const service = new Map(directives.filter((d) => d.section === "Service").map((d) => [d.key, d.value]));
    expect(Object.fromEntries(["DynamicUser", "StateDirectory", "ProtectSystem", "ProtectHome", "NoNewPrivileges", "PrivateTmp", "CapabilityBoundingSet", "RestrictSUIDSGID"].map((k) => [k, service.get(k)]))).toEqual({
      DynamicUser: "yes", StateDirectory: "clawfleet", ProtectSystem: "strict", ProtectHome: "yes", NoNewPrivileges: "yes", PrivateTmp: "yes", CapabilityBoundingSet: "", RestrictSUIDSGID: "yes",
    });
    // V8's JIT needs W^X off: the unit must not set it.
    expect(service.has("MemoryDenyWriteExecute")).toBe(false);
    expect(directives.find((d) => d.section === "Install")?.value).toBe("multi-user.target");

    const { serveCommand } = await import("../../collector/cli/serve-command.ts");
    const argv = evaluateDirectives(directives, { unitName: "clawfleet-collector.service", home: "/root", uid: 0, xdgStateHome: "/var/lib" }).execStart;
    expect(argv.slice(2, 4)).toEqual(serveCommand.path);
    const { values, positionals } = parseFlags(serveCommand.options, argv.slice(4));
    expect(positionals).toEqual([]);
    // %S is /var/lib for system units: the store lands in StateDirectory=.
    expect(values).toMatchObject({ db: "/var/lib/clawfleet/collector.db", "grpc-listen": "127.0.0.1:4317", "http-listen": "127.0.0.1:9464" });
  });

  it.skipIf(!hasSystemdAnalyze())("collector and agent units pass `systemd-analyze verify`, and the collector's exposure score stays low", () => {
    // verify checks ExecStart's program exists: point it at this Node and this checkout's launcher (past Node's flags).
    const localExec = (text: string) => text.replace(/^ExecStart=\S+ (?:--\S+ )*\S+/m, `ExecStart=${process.execPath} ${launcherPath()}`);
    const collector = join(scratch, "clawfleet-collector.service");
    writeFileSync(collector, localExec(collectorUnit()));
    expect(systemdVerify(collector, false, scratch)).toEqual({ status: 0, stderr: "" });
    const agent = join(scratch, "clawfleet-agent.service");
    writeFileSync(agent, localExec(readFileSync(join(ROOT, "deploy/systemd/clawfleet-agent.service"), "utf8")));
    expect(systemdVerify(agent, true, scratch)).toEqual({ status: 0, stderr: "" });

    const security = execFileSync("systemd-analyze", ["security", "--offline=yes", "--no-pager", collector], { encoding: "utf8", env: { PATH: process.env.PATH, SYSTEMD_LOG_COLOR: "0", SYSTEMD_COLORS: "0" }, timeout: 15_000 });
    const exposure = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(security)?.[1]);
    expect(exposure).toBeLessThanOrEqual(2);
  });
});
