// Drift the real gateway in the integration tests cannot show: a service
// definition that lacks what the shell has, with no gateway running.
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
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
});
