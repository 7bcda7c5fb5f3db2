// The gateway check's verdict from the service manager's word, for the states a
// real gateway cannot be put in here (launchd on macOS, a unit systemd has not loaded).
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { gatewayCheck } from "../../agent/checks/gateway.ts";
import type { ServiceDefinition } from "../../agent/discovery/gateway-service.ts";
import { discoverOpenClaw } from "../../agent/discovery/openclaw-world.ts";
import { runCheckWith } from "../helpers/check-context.ts";
import { freePort } from "../helpers/ports.ts";

const home = mkdtempSync(join(tmpdir(), "clawfleet-gwcheck-"));
mkdirSync(join(home, ".openclaw"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const launchAgent = (overrides: Partial<ServiceDefinition>): ServiceDefinition => ({
  manager: "launchd",
  name: "ai.openclaw.gateway",
  definitionPath: join(home, "Library/LaunchAgents/ai.openclaw.gateway.plist"),
  loaded: true,
  programArguments: ["/opt/homebrew/bin/node", "/opt/homebrew/lib/node_modules/openclaw/dist/index.js", "gateway"],
  environment: {},
  environmentSources: {},
  envFiles: [],
  servicePath: "/usr/bin:/bin:/usr/sbin:/sbin",
  ...overrides,
});

async function gatewayFindings(services: ServiceDefinition[], errors: { manager: "launchd"; name: string; message: string }[] = []) {
  const world = discoverOpenClaw({ HOME: home, OPENCLAW_GATEWAY_PORT: String(await freePort()) });
  return runCheckWith(gatewayCheck, world, { services: { services, errors }, "port-owner": { listenAddresses: [] }, loopback: false }, undefined, "darwin");
}

describe("gateway check and the service manager", () => {
  it("says service_not_loaded with the plist path when launchd does not have the gateway", async () => {
    const [finding] = await gatewayFindings([launchAgent({ loaded: false, state: "not loaded" })]);
    expect(finding).toMatchObject({ code: "service_not_loaded", status: "fail", evidence: { plistPath: join(home, "Library/LaunchAgents/ai.openclaw.gateway.plist"), service: "launchd ai.openclaw.gateway" } });
    expect(finding!.action).toContain(`launchctl bootstrap gui/$(id -u) ${join(home, "Library/LaunchAgents/ai.openclaw.gateway.plist")}`);
  });

  it("says not_running with launchd's exit status and run count for a loaded service that keeps dying", async () => {
    const [finding] = await gatewayFindings([launchAgent({ state: "spawn scheduled", runs: 31, lastExitStatus: 78 })]);
    expect(finding).toMatchObject({ code: "not_running", evidence: { runs: "31", lastExitStatus: "78" } });
    expect(finding!.summary).toContain("last exit status 78, 31 runs");
  });

  it("does not call an unknown answer a no: systemctl unreachable is not service_not_loaded", async () => {
    const [finding] = await gatewayFindings([launchAgent({ manager: "systemd", name: "openclaw-gateway.service", loaded: false, state: "unknown (systemctl --user failed: Failed to connect to bus)" })]);
    expect(finding!.code).toBe("not_running");
  });

  it("carries service discovery problems as evidence", async () => {
    const [finding] = await gatewayFindings([], [{ manager: "launchd", name: "ai.openclaw.gateway", message: "~/Library/LaunchAgents/ai.openclaw.gateway.plist: not a valid plist (line 3)" }]);
    expect(finding!.evidence.serviceProblems).toContain("not a valid plist");
  });
});
