// A service whose program is gone: the systemd user unit OpenClaw 2026.9.6
// writes (test/fixtures/systemd), pointing at a version manager's Node that an
// update removed. Nothing can start it, so no gateway runs; `agent check` must
// name the missing program, not advise starting the service.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OPENCLAW_ENTRY } from "../helpers/openclaw-gateway.ts";
import { freePort } from "../helpers/ports.ts";
import { agentCheckJson, REPO_ROOT, stopAll } from "../helpers/processes.ts";
import { expectCause } from "../helpers/startup-cause.ts";
import { gatewayUnit } from "../helpers/systemd-unit.ts";

const PATH = `${REPO_ROOT}node_modules/.bin:/usr/bin:/bin`;

describe("startup causes: the service definition", () => {
  const home = mkdtempSync(join(tmpdir(), "clawfleet-svc-"));
  afterAll(async () => {
    await stopAll();
    rmSync(home, { recursive: true, force: true });
  });

  it("service_program_missing: ExecStart names an nvm Node that no longer exists", async () => {
    const stateDir = join(home, ".openclaw");
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(stateDir, "openclaw.json"), JSON.stringify({ gateway: { mode: "local", bind: "loopback" } }), { mode: 0o600 });
    const port = await freePort();
    const node = join(home, ".nvm", "versions", "node", "v22.12.0", "bin", "node");
    gatewayUnit(home, stateDir, port, `${node} ${OPENCLAW_ENTRY} gateway --port ${port}`);
    // Starting it the way systemd would fails before any gateway code runs.
    expect(spawnSync(node, [OPENCLAW_ENTRY, "gateway", "--port", String(port)]).error).toMatchObject({ code: "ENOENT" });

    const { code, doc } = await agentCheckJson({ HOME: home, OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_PORT: String(port), PATH });
    expect(code).toBe(2);
    expectCause(doc, "service_program_missing");
    expect(doc.findings.find((f) => f.code === "service_program_missing")).toMatchObject({ evidence: { program: node, service: "openclaw-gateway.service" } });
    expect(doc.findings.map((f) => f.code)).not.toContain("version_mismatch");
  }, 60_000);
});
