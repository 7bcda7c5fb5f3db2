// The gateway's LaunchAgent → ServiceDefinition, on a temp HOME with plists
// written by OpenClaw's own builder (test/fixtures/macos/SOURCES.md) and
// launchctl answers replayed from recordings.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build as buildPlistXml, buildBinary } from "plist";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { discoverGatewayServices, findGatewayServices } from "../../agent/discovery/find-gateway-service.ts";
import type { ServiceDiscoveryInput } from "../../agent/discovery/gateway-service.ts";
import { replayRunner, type Recording } from "../../agent/platform/command-runner.ts";
import { newerThan, OPENCLAW_SERVICE_ENV_HEADER, parseShellEnv } from "../../agent/discovery/dotenv-service-env.ts";
import { expectedLaunchdLabel, redactedVariables, REDACTED_PLACEHOLDER } from "../../agent/discovery/launchd-service.ts";
import { LAUNCHD_DEFAULT_PATH } from "../../agent/platform/launchd.ts";
import { loadFixture, recordings } from "../fixtures/macos/recording.ts";

const FIXTURES = join(import.meta.dirname, "../fixtures/macos");
const GATEWAY_TOKEN = "test-gateway-token-7d1c0ffee0ddba11";
const PROVIDER_KEY = "sk-ant-test-0000000000000000000000000000";

/** OpenClaw's service-env format: the header, then `export KEY='value'` with `'\''` for quotes (buildLaunchAgentEnvironmentFile). */
function serviceEnvText(values: Record<string, string>, header = OPENCLAW_SERVICE_ENV_HEADER): string {
  const quote = (v: string) => `'${v.replaceAll("'", "'\\''")}'`;
  return [header, ...Object.entries(values).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `export ${k}=${quote(v)}`), ""].join("\n");
}

describe("launchd service discovery", () => {
  let home: string;
  let stateDir: string;
  let agents: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "clawfleet-launchd-"));
    stateDir = join(home, ".openclaw");
    agents = join(home, "Library", "LaunchAgents");
    mkdirSync(agents, { recursive: true });
    mkdirSync(join(stateDir, "service-env"), { recursive: true });
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  const template = (name: string, vars: Record<string, string> = {}) =>
    readFileSync(join(FIXTURES, name), "utf8").replaceAll("{{HOME}}", vars.HOME ?? home).replaceAll("{{STATE_DIR}}", vars.STATE_DIR ?? stateDir);
  const writePlist = (label: string, text: string) => writeFileSync(join(agents, `${label}.plist`), text);
  const serviceEnvPath = (label = "ai.openclaw.gateway") => join(stateDir, "service-env", `${label}.env`);
  const input = (launchctl: Record<string, Recording>, env: Record<string, string> = {}, calls: string[] = []): ServiceDiscoveryInput => ({
    runner: replayRunner(launchctl, calls),
    env: { HOME: home, ...env },
    home,
    stateDir,
    uid: 501,
  });
  const running = () => recordings(loadFixture(join(FIXTURES, "launchctl-print-running.txt")));
  const notLoaded = (label = "ai.openclaw.gateway"): Record<string, Recording> => {
    const recorded = loadFixture(join(FIXTURES, "launchctl-print-not-loaded.txt"));
    return recordings({ ...recorded, command: `launchctl print gui/501/${label}`, stderr: recorded.stderr!.replaceAll("ai.openclaw.gateway", label) });
  };

  it("names the label the way OpenClaw does: default, profile, override", () => {
    expect(expectedLaunchdLabel({})).toBe("ai.openclaw.gateway");
    expect(expectedLaunchdLabel({ OPENCLAW_PROFILE: "default" })).toBe("ai.openclaw.gateway");
    expect(expectedLaunchdLabel({ OPENCLAW_PROFILE: "work" })).toBe("ai.openclaw.work");
    expect(expectedLaunchdLabel({ OPENCLAW_PROFILE: "work", OPENCLAW_LAUNCHD_LABEL: "com.example.gw" })).toBe("com.example.gw");
  });

  it("reads the current install: the command behind the env wrapper, the env file's values, and launchd's pid", async () => {
    writePlist("ai.openclaw.gateway", template("ai.openclaw.gateway.plist.template"));
    writeFileSync(serviceEnvPath(), serviceEnvText({ OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN, ANTHROPIC_API_KEY: PROVIDER_KEY, OPENCLAW_GATEWAY_PORT: "18789", NOTE: "it's quoted" }), { mode: 0o600 });
    const [service] = await findGatewayServices(input(running()), "darwin");
    expect(service).toMatchObject({
      manager: "launchd",
      name: "ai.openclaw.gateway",
      definitionPath: join(agents, "ai.openclaw.gateway.plist"),
      loaded: true,
      state: "running",
      pid: 1076,
      runs: 1,
      workingDirectory: home,
      programArguments: ["/opt/homebrew/bin/node", "--max-old-space-size=4096", "/opt/homebrew/lib/node_modules/openclaw/dist/index.js", "gateway", "--port", "18789"],
    });
    expect(service!.environment).toEqual({ OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN, ANTHROPIC_API_KEY: PROVIDER_KEY, OPENCLAW_GATEWAY_PORT: "18789", NOTE: "it's quoted" });
    expect(service!.environmentSources.OPENCLAW_GATEWAY_TOKEN).toEqual({ kind: "service-env-file", path: serviceEnvPath() });
    expect(service!.envFiles).toEqual([{ path: serviceEnvPath(), exists: true, mtimeMs: expect.any(Number), optional: false }]);
    expect(service!.definitionMtimeMs).toEqual(expect.any(Number));
  });

  it("gives the service launchd's PATH when neither the plist nor the env file sets one (a Homebrew openclaw is not on it)", async () => {
    writePlist("ai.openclaw.gateway", template("ai.openclaw.gateway.plist.template"));
    writeFileSync(serviceEnvPath(), serviceEnvText({ OPENCLAW_GATEWAY_PORT: "18789" }));
    const [service] = await findGatewayServices(input(running()), "darwin");
    expect(service!.servicePath).toBe(LAUNCHD_DEFAULT_PATH);
    expect(service!.servicePath.split(":")).not.toContain("/opt/homebrew/bin");
  });

  it("reports a missing service-env file as such: the wrapper would exit 78", async () => {
    writePlist("ai.openclaw.gateway", template("ai.openclaw.gateway.plist.template"));
    const result = await discoverGatewayServices(input(running()), "darwin");
    expect(result.services[0]!.envFiles).toEqual([{ path: serviceEnvPath(), exists: false, mtimeMs: undefined, optional: false }]);
    expect(result.services[0]!.environment).toEqual({});
  });

  it("flags an env file without OpenClaw's header line, which the wrapper refuses", async () => {
    writePlist("ai.openclaw.gateway", template("ai.openclaw.gateway.plist.template"));
    writeFileSync(serviceEnvPath(), serviceEnvText({ OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN }, "# my own env"));
    const result = await discoverGatewayServices(input(running()), "darwin");
    expect(result.errors).toEqual([expect.objectContaining({ manager: "launchd", name: "ai.openclaw.gateway", path: serviceEnvPath(), message: expect.stringContaining("exit 78") })]);
    expect(JSON.stringify(result.errors)).not.toContain(GATEWAY_TOKEN);
  });

  it("flags a hand-added line without `export`: the wrapper's sh keeps it and the gateway never sees it", async () => {
    writePlist("ai.openclaw.gateway", template("ai.openclaw.gateway.plist.template"));
    const text = `${serviceEnvText({ OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN })}ANTHROPIC_API_KEY=${PROVIDER_KEY}\nPATH=/opt/homebrew/bin:/usr/bin:/bin\n`;
    writeFileSync(serviceEnvPath(), text, { mode: 0o600 });
    const result = await discoverGatewayServices(input(running()), "darwin");
    const service = result.services[0]!;
    // Before: ANTHROPIC_API_KEY counted as the service's, so a missing key looked present.
    expect(service.environment.ANTHROPIC_API_KEY).toBeUndefined();
    // PATH is in every launchd job's environment, so the plain assignment does change it.
    expect(service.environment.PATH).toBe("/opt/homebrew/bin:/usr/bin:/bin");
    expect(result.errors).toEqual([expect.objectContaining({ path: serviceEnvPath(), message: expect.stringContaining("ANTHROPIC_API_KEY is assigned without `export`") })]);
    expect(JSON.stringify(result.errors)).not.toContain(PROVIDER_KEY);
  });

  it("tells a stale env file: .env or openclaw.json edited after it was generated (restart does not regenerate it)", async () => {
    writePlist("ai.openclaw.gateway", template("ai.openclaw.gateway.plist.template"));
    writeFileSync(serviceEnvPath(), serviceEnvText({ ANTHROPIC_API_KEY: "old-key" }));
    writeFileSync(join(stateDir, ".env"), `ANTHROPIC_API_KEY=${PROVIDER_KEY}\n`);
    writeFileSync(join(stateDir, "openclaw.json"), "{}\n");
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(serviceEnvPath(), hourAgo, hourAgo);
    utimesSync(join(stateDir, "openclaw.json"), new Date(Date.now() - 7200_000), new Date(Date.now() - 7200_000));
    const [service] = await findGatewayServices(input(running()), "darwin");
    const stale = await newerThan(service!.envFiles[0]!, [join(stateDir, ".env"), join(stateDir, "openclaw.json"), join(stateDir, "missing.json")]);
    expect(stale.map((s) => s.path)).toEqual([join(stateDir, ".env")]);
    expect(await newerThan({ mtimeMs: undefined }, [join(stateDir, ".env")])).toEqual([]);
  });

  it("keeps the __OPENCLAW_REDACTED__ placeholder of legacy inline EnvironmentVariables visible, as the service really gets it", async () => {
    writePlist("ai.openclaw.gateway", template("ai.openclaw.gateway.legacy-env.plist.template"));
    const [service] = await findGatewayServices(input(running()), "darwin");
    expect(service!.environment.OPENCLAW_GATEWAY_TOKEN).toBe(REDACTED_PLACEHOLDER);
    expect(service!.environmentSources.ANTHROPIC_API_KEY).toEqual({ kind: "plist", path: join(agents, "ai.openclaw.gateway.plist") });
    expect(redactedVariables(service!)).toEqual(["ANTHROPIC_API_KEY", "OPENCLAW_GATEWAY_TOKEN"]);
    expect(service!.envFiles).toEqual([]);
    // The plist sets PATH, so that is what the gateway runs with.
    expect(service!.servicePath).toBe("/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin");
  });

  it("an installed but unloaded agent is loaded=false, state 'not loaded' (launchctl exit 113)", async () => {
    writePlist("ai.openclaw.gateway", template("ai.openclaw.gateway.plist.template"));
    writeFileSync(serviceEnvPath(), serviceEnvText({ OPENCLAW_GATEWAY_PORT: "18789" }));
    const [service] = await findGatewayServices(input(notLoaded()), "darwin");
    expect(service).toMatchObject({ loaded: false, state: "not loaded", pid: undefined, runs: undefined });
  });

  it("a crash-looping agent carries launchd's run count and last exit status", async () => {
    writePlist("ai.openclaw.gateway", template("ai.openclaw.gateway.plist.template"));
    const [service] = await findGatewayServices(input(recordings(loadFixture(join(FIXTURES, "launchctl-print-crash-loop.txt")))), "darwin");
    expect(service).toMatchObject({ loaded: true, state: "not running", runs: 14, lastExitStatus: 78, pid: undefined });
  });

  it("without launchctl the definition is still read, and `state` says loaded is unknown rather than false-and-sure", async () => {
    writePlist("ai.openclaw.gateway", template("ai.openclaw.gateway.plist.template"));
    const result = await discoverGatewayServices(input({}), "darwin");
    expect(result.services[0]).toMatchObject({ loaded: false, state: "unknown (launchctl is not available)" });
    expect(result.errors.map((e) => e.message)).toEqual(["cannot tell whether ai.openclaw.gateway is loaded: launchctl is not available"]);
  });

  it("a malformed plist is an error naming the file, without its content; launchd's loaded copy still describes the service", async () => {
    const broken = template("ai.openclaw.gateway.legacy-env.plist.template").replace(REDACTED_PLACEHOLDER, GATEWAY_TOKEN).replace("</dict>\n  </dict>", "");
    writePlist("ai.openclaw.gateway", broken);
    const result = await discoverGatewayServices(input(running()), "darwin");
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ path: join(agents, "ai.openclaw.gateway.plist") });
    expect(result.errors[0]!.message).toMatch(/ai\.openclaw\.gateway\.plist is not a valid property list/);
    expect(JSON.stringify(result)).not.toContain(GATEWAY_TOKEN);
    expect(result.services[0]).toMatchObject({ loaded: true, pid: 1076, definitionPath: join(agents, "ai.openclaw.gateway.plist") });
    expect(result.services[0]!.programArguments.at(-3)).toBe("gateway");
  });

  it("garbage in the plist file and nothing loaded: an error, no service, no throw", async () => {
    writePlist("ai.openclaw.gateway", "\u0000\u0001garbage");
    const result = await discoverGatewayServices(input(notLoaded()), "darwin");
    expect(result.services).toEqual([]);
    expect(result.errors[0]!.message).toContain("ai.openclaw.gateway.plist");
  });

  it("nothing installed and nothing loaded is simply no service", async () => {
    expect(await discoverGatewayServices(input(notLoaded()), "darwin")).toEqual({ services: [], errors: [] });
  });

  it("reads a binary plist as launchd would", async () => {
    const xmlValue = { Label: "ai.openclaw.gateway", ProgramArguments: ["/opt/homebrew/bin/node", "/opt/homebrew/lib/node_modules/openclaw/dist/index.js", "gateway", "--port", "18789"], EnvironmentVariables: { OPENCLAW_GATEWAY_PORT: "18789" } };
    writeFileSync(join(agents, "ai.openclaw.gateway.plist"), Buffer.from(buildBinary(xmlValue)));
    const [service] = await findGatewayServices(input(running()), "darwin");
    expect(service!.programArguments).toEqual(xmlValue.ProgramArguments);
    expect(service!.environment).toEqual({ OPENCLAW_GATEWAY_PORT: "18789" });
  });

  it("finds a second gateway under a profile label, and ignores other ai.openclaw.* agents", async () => {
    writePlist("ai.openclaw.gateway", template("ai.openclaw.gateway.plist.template"));
    writePlist("ai.openclaw.work", template("ai.openclaw.work.plist.template"));
    writePlist("ai.openclaw.node", buildPlistXml({ Label: "ai.openclaw.node", ProgramArguments: ["/opt/homebrew/bin/node", "/opt/homebrew/lib/node_modules/openclaw/dist/index.js", "node", "run", "--host", "gw.example"] }));
    mkdirSync(join(home, ".openclaw-work", "service-env"), { recursive: true });
    writeFileSync(join(home, ".openclaw-work", "service-env", "ai.openclaw.work.env"), serviceEnvText({ OPENCLAW_SERVICE_MARKER: "openclaw", OPENCLAW_SERVICE_KIND: "gateway", OPENCLAW_GATEWAY_PORT: "19001" }));
    const calls: string[] = [];
    const services = await findGatewayServices(input({ ...running(), ...notLoaded("ai.openclaw.work"), ...notLoaded("ai.openclaw.node") }, {}, calls), "darwin");
    expect(services.map((s) => [s.name, s.loaded, s.environment.OPENCLAW_GATEWAY_PORT])).toEqual([
      ["ai.openclaw.gateway", true, undefined],
      ["ai.openclaw.work", false, "19001"],
    ]);
    expect(calls).toContain("launchctl print gui/501/ai.openclaw.work");
  });

  it("under OPENCLAW_PROFILE the profile's label is the expected one", async () => {
    writePlist("ai.openclaw.work", template("ai.openclaw.work.plist.template"));
    const services = await findGatewayServices(input(notLoaded("ai.openclaw.work"), { OPENCLAW_PROFILE: "work" }), "darwin");
    expect(services.map((s) => s.name)).toEqual(["ai.openclaw.work"]);
    expect(services[0]!.envFiles[0]!.path).toBe(join(home, ".openclaw-work", "service-env", "ai.openclaw.work.env"));
  });

  it("on a platform with neither launchd nor systemd it finds nothing", async () => {
    expect(await findGatewayServices(input({}), "win32")).toEqual([]);
  });
});

describe("service-env file parsing (sh semantics)", () => {
  it("reads OpenClaw's quoting, including '\\'' and values spanning lines", () => {
    const text = `${OPENCLAW_SERVICE_ENV_HEADER}\nexport A='plain'\nexport B='it'\\''s'\nexport C='line one\nline two'\nexport D=''\n`;
    expect(parseShellEnv(text)).toEqual({ values: { A: "plain", B: "it's", C: "line one\nline two", D: "" }, headerValid: true, problems: [] });
  });

  it("reads hand-written forms, and flags what sh would expand or run instead of guessing", () => {
    const text = [
      OPENCLAW_SERVICE_ENV_HEADER,
      "# a comment",
      'PLAIN=value',
      'export DQ="a \\"quoted\\" $word"',
      "export HOME_BIN=$HOME/bin",
      "launchctl setenv X y",
      "export BROKEN='never closed",
      "",
    ].join("\n");
    const parsed = parseShellEnv(text);
    // PLAIN has no `export`: sh keeps it as a shell variable, and the exec'd gateway never sees it
    // (checked against the real wrapper under /bin/sh in test/unit/openclaw-parity.test.ts).
    expect(parsed.values).toEqual({ DQ: 'a "quoted" $word', HOME_BIN: "$HOME/bin" });
    expect(parsed.unexported).toEqual({ PLAIN: "value" });
    expect(parsed.problems).toEqual([
      "line 4: DQ uses shell expansion; its value depends on the wrapper's environment",
      "line 5: HOME_BIN uses shell expansion; its value depends on the wrapper's environment",
      "line 6: not a NAME=value assignment (sh would run it as a command)",
      "line 7: BROKEN: unterminated single quote",
    ]);
    expect(parsed.headerValid).toBe(true);
  });
});
