// Drift the real gateway in the integration tests cannot show: a service
// definition that lacks what the shell has, with no gateway running.
import { mkdtempSync, mkdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { driftCheck } from "../../agent/checks/drift.ts";
import { startupCheck } from "../../agent/checks/startup.ts";
import type { ServiceDefinition } from "../../agent/discovery/gateway-service.ts";
import { discoverOpenClaw } from "../../agent/discovery/openclaw-world.ts";
import { runCheckWith } from "../helpers/check-context.ts";

const home = mkdtempSync(join(tmpdir(), "clawfleet-drift-"));
mkdirSync(join(home, ".openclaw"), { mode: 0o700 });
afterAll(() => rmSync(home, { recursive: true, force: true }));

const unit: ServiceDefinition = {
  manager: "systemd",
  name: "openclaw-gateway.service",
  definitionPath: join(home, ".config/systemd/user/openclaw-gateway.service"),
  loaded: false,
  state: "unknown (systemctl --user failed)",
  programArguments: ["/usr/bin/node", "/usr/lib/node_modules/openclaw/dist/index.js", "gateway"],
  environment: { HOME: home, OPENCLAW_GATEWAY_PORT: "18789" },
  environmentSources: {},
  envFiles: [],
  servicePath: "/usr/local/bin:/usr/bin",
};

describe("drift against the service definition", () => {
  it("reports OPENCLAW_GATEWAY_TOKEN set only in the shell when the config holds no token (openclaw#13692) once, as the startup check's auth_unconfigured", async () => {
    const world = discoverOpenClaw({ HOME: home, PATH: "/nonexistent", OPENCLAW_GATEWAY_TOKEN: "cf-drift-shell-only-token-1234" });
    const observations = { services: { services: [unit], errors: [] }, "port-owner": { listenAddresses: [] }, loopback: false, "gateway-log": { sources: [], lines: [] } };
    const drift = await runCheckWith(driftCheck, world, observations);
    expect(drift.map((f) => f.code)).not.toContain("service_env_missing");
    const startup = await runCheckWith(startupCheck, world, observations);
    const missing = startup.find((f) => f.code === "auth_unconfigured")!;
    expect(missing).toMatchObject({ layer: "gateway", status: "fail", evidence: { variable: "OPENCLAW_GATEWAY_TOKEN", serviceEnvPath: unit.definitionPath } });
    expect(missing.summary).toContain("no gateway.auth.token in the config");
    expect(missing.summary).toContain("set only in this shell");
    expect(JSON.stringify([...drift, ...startup])).not.toContain("cf-drift-shell-only-token-1234");
  });

  it("says nothing when the service has the token too", async () => {
    const world = discoverOpenClaw({ HOME: home, PATH: "/nonexistent", OPENCLAW_GATEWAY_TOKEN: "cf-drift-shell-only-token-1234" });
    const withToken = { ...unit, environment: { ...unit.environment, OPENCLAW_GATEWAY_TOKEN: "cf-drift-shell-only-token-1234" } };
    const observations = { services: { services: [withToken], errors: [] }, "port-owner": { listenAddresses: [] }, loopback: false, "gateway-log": { sources: [], lines: [] } };
    const findings = [...(await runCheckWith(driftCheck, world, observations)), ...(await runCheckWith(startupCheck, world, observations))];
    expect(findings.map((f) => f.code)).not.toContain("service_env_missing");
    expect(findings.map((f) => f.code)).not.toContain("auth_unconfigured");
  });

  it("does not say 'set in your shell' for a variable the gateway loads itself from ~/.config/openclaw/gateway.env", async () => {
    // Before: only the state dir's .env counted, so a token the shell and gateway.env both
    // hold was reported as shell-only, a false drift page for a token problem that does not exist.
    mkdirSync(join(home, ".config", "openclaw"), { recursive: true });
    writeFileSync(join(home, ".config", "openclaw", "gateway.env"), "OPENCLAW_GATEWAY_TOKEN=cf-drift-shell-only-token-1234\n");
    try {
      const world = discoverOpenClaw({ HOME: home, PATH: "/nonexistent", OPENCLAW_GATEWAY_TOKEN: "cf-drift-shell-only-token-1234" });
      const findings = await runCheckWith(driftCheck, world, { services: { services: [unit], errors: [] }, "port-owner": { listenAddresses: [] }, loopback: false });
      expect(findings.map((f) => f.code)).not.toContain("service_env_missing");
    } finally {
      rmSync(join(home, ".config", "openclaw", "gateway.env"));
    }
  });

  it("reports config_not_applied for an edit to an $include'd file after the gateway started, naming that file", async () => {
    const stateDir = join(home, ".openclaw");
    const main = join(stateDir, "openclaw.json");
    const included = join(stateDir, "gateway.json5");
    writeFileSync(main, `{ gateway: { "$include": "./gateway.json5" } }`);
    writeFileSync(included, `{ reload: { mode: "off" }, auth: { token: "cf-include-token-0000" } }`);
    const now = Date.now();
    utimesSync(main, (now - 120_000) / 1000, (now - 120_000) / 1000);
    try {
      const world = discoverOpenClaw({ HOME: home, PATH: "/nonexistent" });
      const live = { pid: 4242, argv: ["openclaw-gateway"], startedAtMs: now - 60_000, stateDir, tokenOnCommandLine: false };
      const findings = await runCheckWith(driftCheck, world, { services: { services: [], errors: [] }, "port-owner": { listenAddresses: ["127.0.0.1"], pid: 4242, gateway: live }, loopback: false });
      const stale = findings.find((f) => f.code === "config_not_applied")!;
      // Before: only openclaw.json's own time counted, older than the start, so nothing was said.
      expect(stale.summary).toBe(`${included} was modified after the gateway started (reload mode "off").`);
    } finally {
      rmSync(main);
      rmSync(included);
    }
  });
});
