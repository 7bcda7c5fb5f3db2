// The gateway's systemd user unit → ServiceDefinition, on a temp HOME with the
// unit OpenClaw's own builder writes (test/fixtures/systemd/SOURCES.md) and
// systemctl answers replayed from recordings. The CI host has no user bus, so
// the unit-file fallback is also what really runs here.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { discoverGatewayServices, findGatewayServices } from "../../agent/discovery/find-gateway-service.ts";
import type { ServiceDiscoveryInput, UserManagerCache } from "../../agent/discovery/gateway-service.ts";
import { replayRunner, systemRunner, type Recording } from "../../agent/platform/command-runner.ts";
import { expectedSystemdUnit, SYSTEMD_DEFAULT_USER_PATH } from "../../agent/discovery/systemd-service.ts";
import { fill, loadFixture, recordings } from "../fixtures/macos/recording.ts";

const FIXTURES = join(import.meta.dirname, "../fixtures/systemd");
const GATEWAY_TOKEN = "test-token-dropin-0123456789abcdef";
const PROVIDER_KEY = "sk-ant-test-1111111111111111111111111111";

describe("systemd service discovery", () => {
  let home: string;
  let stateDir: string;
  let units: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "clawfleet-systemd-"));
    stateDir = join(home, ".openclaw");
    units = join(home, ".config", "systemd", "user");
    mkdirSync(units, { recursive: true });
    mkdirSync(stateDir, { recursive: true });
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  const vars = () => ({ HOME: home, STATE_DIR: stateDir });
  const fixture = (name: string) => fill(loadFixture(join(FIXTURES, name)), vars());
  const unitText = () => readFileSync(join(FIXTURES, "openclaw-gateway.service.template"), "utf8").replaceAll("{{HOME}}", home).replaceAll("{{STATE_DIR}}", stateDir);
  const writeUnit = (text = unitText(), name = "openclaw-gateway.service") => writeFileSync(join(units, name), text);
  const writeDropIn = (name: string, text: string, unit = "openclaw-gateway.service") => {
    mkdirSync(join(units, `${unit}.d`), { recursive: true });
    writeFileSync(join(units, `${unit}.d`, name), text);
  };
  const envFile = () => join(stateDir, "gateway.systemd.env");
  const input = (table: Record<string, Recording>, env: Record<string, string> = {}, calls: string[] = []): ServiceDiscoveryInput => ({
    runner: replayRunner(table, calls),
    env: { HOME: home, USER: "oc", ...env },
    home,
    stateDir,
    uid: 1000,
  });
  /** No user bus, as recorded on the CI host. */
  const noBus = () => recordings(fixture("systemctl-user-no-bus.txt"));
  const withBus = (...show: string[]) => recordings(fixture("systemctl-show-environment.txt"), ...show.map(fixture));

  it("names the unit the way OpenClaw does: default, profile, override", () => {
    expect(expectedSystemdUnit({})).toBe("openclaw-gateway.service");
    expect(expectedSystemdUnit({ OPENCLAW_PROFILE: "Default" })).toBe("openclaw-gateway.service");
    expect(expectedSystemdUnit({ OPENCLAW_PROFILE: "work" })).toBe("openclaw-gateway-work.service");
    expect(expectedSystemdUnit({ OPENCLAW_SYSTEMD_UNIT: "my-gw" })).toBe("my-gw.service");
  });

  describe("without a user manager (the unit files are read directly)", () => {
    it("reads ExecStart, Environment= and the EnvironmentFile=, and says honestly that whether it runs is unknown", async () => {
      writeUnit();
      writeFileSync(envFile(), `ANTHROPIC_API_KEY=${PROVIDER_KEY}\nOPENCLAW_GATEWAY_PORT=19999\n`, { mode: 0o600 });
      const result = await discoverGatewayServices(input(noBus()), "linux");
      const [service] = result.services;
      expect(service).toMatchObject({
        manager: "systemd",
        name: "openclaw-gateway.service",
        definitionPath: join(units, "openclaw-gateway.service"),
        loaded: false,
        state: "unknown (systemctl --user failed: Failed to connect to bus: No medium found)",
        pid: undefined,
        startedAtMs: undefined,
        programArguments: ["/usr/bin/node", "/usr/lib/node_modules/openclaw/dist/index.js", "gateway", "--port", "18789"],
        workingDirectory: home,
        servicePath: "/usr/local/bin:/usr/bin:/bin",
      });
      // The file is applied after Environment= although OpenClaw writes its line first.
      expect(service!.environment.OPENCLAW_GATEWAY_PORT).toBe("19999");
      expect(service!.environmentSources.OPENCLAW_GATEWAY_PORT).toEqual({ kind: "unit-environment-file", path: envFile() });
      expect(service!.environment.NODE_OPTIONS).toBe("--max-old-space-size=2048 --enable-source-maps");
      expect(service!.environmentSources.NODE_OPTIONS).toEqual({ kind: "unit-environment", path: join(units, "openclaw-gateway.service") });
      expect(service!.envFiles).toEqual([{ path: envFile(), exists: true, mtimeMs: expect.any(Number), optional: true }]);
      expect(result.errors.map((e) => e.message)).toEqual([
        "openclaw-gateway.service: systemctl --user failed: Failed to connect to bus: No medium found; read from the unit file, so whether it is loaded or running is unknown",
      ]);
      expect(JSON.stringify(result.errors)).not.toContain(PROVIDER_KEY);
    });

    it("an optional EnvironmentFile= that is missing is listed as missing, not an error", async () => {
      writeUnit();
      const result = await discoverGatewayServices(input(noBus()), "linux");
      expect(result.services[0]!.envFiles).toEqual([{ path: envFile(), exists: false, mtimeMs: undefined, optional: true }]);
      expect(result.errors).toHaveLength(1);
    });

    it("a required EnvironmentFile= that is missing is an error: systemd will not start the unit", async () => {
      writeUnit(unitText().replace(`EnvironmentFile=-${envFile()}`, `EnvironmentFile=${envFile()}`));
      const result = await discoverGatewayServices(input(noBus()), "linux");
      expect(result.services[0]!.envFiles[0]).toMatchObject({ exists: false, optional: false });
      expect(result.errors.map((e) => e.message)).toContain(`EnvironmentFile=${envFile()} is missing and not optional: systemd refuses to start openclaw-gateway.service`);
    });

    it("drop-ins apply in name order; an empty ExecStart= resets the command; the token a drop-in adds is found, its value in no error", async () => {
      writeUnit();
      writeDropIn("20-command.conf", "[Service]\nExecStart=\nExecStart=/home/oc/.nvm/versions/node/v24.2.0/bin/node /opt/oc/index.js gateway --port 18789\n");
      writeDropIn("10-token.conf", `[Service]\nEnvironment=OPENCLAW_GATEWAY_TOKEN=${GATEWAY_TOKEN}\nUnsetEnvironment=OPENCLAW_SERVICE_KIND\n`);
      writeFileSync(envFile(), "export BROKEN=1\n");
      const result = await discoverGatewayServices(input(noBus()), "linux");
      const [service] = result.services;
      expect(service!.programArguments[0]).toBe("/home/oc/.nvm/versions/node/v24.2.0/bin/node");
      expect(service!.environment.OPENCLAW_GATEWAY_TOKEN).toBe(GATEWAY_TOKEN);
      expect(service!.environmentSources.OPENCLAW_GATEWAY_TOKEN).toEqual({ kind: "unit-environment", path: join(units, "openclaw-gateway.service.d", "10-token.conf") });
      expect(service!.environment.OPENCLAW_SERVICE_KIND).toBeUndefined();
      expect(result.errors.map((e) => e.message)).toContain(`${envFile()}: line 1: "export BROKEN" is not a valid variable name; systemd ignores it`);
      expect(JSON.stringify(result.errors)).not.toContain(GATEWAY_TOKEN);
    });

    it("honours $XDG_CONFIG_HOME for the unit search path", async () => {
      const xdg = join(home, "xdg");
      mkdirSync(join(xdg, "systemd", "user"), { recursive: true });
      writeFileSync(join(xdg, "systemd", "user", "openclaw-gateway.service"), unitText());
      const [service] = await findGatewayServices(input(noBus(), { XDG_CONFIG_HOME: xdg }), "linux");
      expect(service!.definitionPath).toBe(join(xdg, "systemd", "user", "openclaw-gateway.service"));
    });

    it("a unit it cannot read is an error naming the file; no unit at all is no service", async () => {
      expect(await discoverGatewayServices(input(noBus()), "linux")).toEqual({ services: [], errors: [] });
      mkdirSync(join(units, "openclaw-gateway.service"));
      const result = await discoverGatewayServices(input(noBus()), "linux");
      expect(result.services).toEqual([]);
      expect(result.errors[0]!.message).toMatch(/cannot read .*openclaw-gateway\.service: EISDIR/);
    });

    it("finds profile units beside the default one", async () => {
      writeUnit();
      writeUnit(unitText().replace("--port 18789", "--port 19001"), "openclaw-gateway-work.service");
      const services = await findGatewayServices(input(noBus()), "linux");
      expect(services.map((s) => [s.name, s.programArguments.at(-1)])).toEqual([
        ["openclaw-gateway.service", "18789"],
        ["openclaw-gateway-work.service", "19001"],
      ]);
    });
  });

  it("a daemon asks an unreachable user manager again only once its bus socket appears", async () => {
    writeUnit();
    const runtime = join(home, "run");
    mkdirSync(join(runtime, "systemd"), { recursive: true });
    const userManager: UserManagerCache = {};
    const calls: string[] = [];
    const env = { XDG_RUNTIME_DIR: runtime };
    const first = await discoverGatewayServices({ ...input(noBus(), env, calls), userManager }, "linux");
    const second = await discoverGatewayServices({ ...input(noBus(), env, calls), userManager }, "linux");
    expect(second).toEqual(first);
    expect(second.services[0]!.state).toBe("unknown (systemctl --user failed: Failed to connect to bus: No medium found)");
    expect(calls).toEqual(["systemctl --user show-environment"]);
    // The user manager started (a login, lingering turned on): its private socket appears.
    writeFileSync(join(runtime, "systemd", "private"), "");
    const third = await discoverGatewayServices({ ...input(withBus("systemctl-show-active.txt"), env, calls), userManager }, "linux");
    expect(third.services[0]).toMatchObject({ loaded: true, state: "active" });
    expect(calls.filter((c) => c === "systemctl --user show-environment")).toHaveLength(2);
  });

  describe("with a user manager (systemctl --user show)", () => {
    it("uses the manager's merged view: state, pid, start time, restarts, and the unit file's argv when it prints the same", async () => {
      writeUnit();
      writeDropIn("10-token.conf", `[Service]\nEnvironment=OPENCLAW_GATEWAY_TOKEN=${GATEWAY_TOKEN}\n`);
      writeFileSync(envFile(), `ANTHROPIC_API_KEY=${PROVIDER_KEY}\n`);
      const calls: string[] = [];
      const result = await discoverGatewayServices(input(withBus("systemctl-show-active.txt"), {}, calls), "linux");
      const [service] = result.services;
      expect(result.errors).toEqual([]);
      expect(service).toMatchObject({
        loaded: true,
        state: "active",
        pid: 48211,
        startedAtMs: Date.UTC(2026, 2, 14, 7, 31, 12),
        runs: 2,
        lastExitStatus: undefined,
        programArguments: ["/usr/bin/node", "/usr/lib/node_modules/openclaw/dist/index.js", "gateway", "--port", "18789"],
        workingDirectory: home,
      });
      expect(service!.environment).toMatchObject({ OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN, ANTHROPIC_API_KEY: PROVIDER_KEY, NODE_OPTIONS: "--max-old-space-size=2048 --enable-source-maps" });
      expect(service!.environmentSources.OPENCLAW_GATEWAY_TOKEN!.path).toBe(join(units, "openclaw-gateway.service.d", "10-token.conf"));
      expect(service!.environmentSources.ANTHROPIC_API_KEY).toEqual({ kind: "unit-environment-file", path: envFile() });
      expect(calls).toEqual([
        "systemctl --user show-environment",
        expect.stringMatching(/^systemctl --user show openclaw-gateway\.service -p Id,LoadState,/),
      ]);
    });

    it("a failed unit: exit status, restart count, and a reminder when the file changed since systemd loaded it", async () => {
      writeUnit();
      writeFileSync(envFile(), "OPENCLAW_GATEWAY_PORT=18789\n");
      const result = await discoverGatewayServices(input(withBus("systemctl-show-failed.txt")), "linux");
      expect(result.services[0]).toMatchObject({ loaded: true, state: "failed", pid: undefined, runs: 5, lastExitStatus: 78 });
      // CEST is not this process's zone: the start time is unknown rather than guessed.
      if (new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(new Date(2026, 2, 14)).find((p) => p.type === "timeZoneName")?.value !== "CEST") {
        expect(result.services[0]!.startedAtMs).toBeUndefined();
      }
      expect(result.errors.map((e) => e.message)).toEqual([
        "openclaw-gateway.service changed on disk since systemd loaded it: run `systemctl --user daemon-reload`, then restart it",
      ]);
    });

    it("a unit file the manager does not know (never daemon-reloaded) is read from disk and flagged", async () => {
      writeUnit();
      const result = await discoverGatewayServices(input(withBus("systemctl-show-not-found.txt")), "linux");
      expect(result.services[0]).toMatchObject({ loaded: false, state: "inactive", programArguments: expect.arrayContaining(["gateway"]) });
      expect(result.services[0]!.environment.OPENCLAW_SERVICE_MARKER).toBe("openclaw");
      expect(result.errors[0]!.message).toContain("has not loaded openclaw-gateway.service: run `systemctl --user daemon-reload`");
    });

    it("no unit file and LoadState=not-found is no service", async () => {
      expect(await discoverGatewayServices(input(withBus("systemctl-show-not-found.txt")), "linux")).toEqual({ services: [], errors: [] });
    });

    it("the service PATH defaults to the manager's own when the unit sets none", async () => {
      writeUnit(unitText().replace(/^Environment=PATH=.*\n/m, ""));
      const table = recordings(fixture("systemctl-show-environment.txt"), { ...fixture("systemctl-show-active.txt"), stdout: fixture("systemctl-show-active.txt").stdout!.replace(" PATH=/usr/local/bin:/usr/bin:/bin", "") });
      const [service] = await findGatewayServices(input(table), "linux");
      expect(service!.servicePath).toBe("/usr/local/bin:/usr/bin:/bin:/usr/games");
      expect(SYSTEMD_DEFAULT_USER_PATH).toBe("/usr/local/bin:/usr/bin");
    });
  });

  it("on this host (no user session), the real systemctl takes the fallback without throwing", async () => {
    writeUnit();
    const result = await discoverGatewayServices({ runner: systemRunner, env: { HOME: home }, home, stateDir, uid: 1000 }, "linux");
    expect(result.services).toHaveLength(1);
    const service = result.services[0]!;
    // Either a real user manager answered (then it knows about this unit or not), or we were honest about not knowing.
    if (!service.loaded) expect(service.state).toMatch(/^(unknown \(|inactive)/);
  });
});
