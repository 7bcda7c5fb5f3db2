// A service environment holding OpenClaw's display placeholder instead of the
// token (openclaw#13340: `gateway install` wrote __OPENCLAW_REDACTED__). The
// real gateway is started with that environment, as the service starts it; it
// runs, and every client token is rejected. The cause is the placeholder.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OPENCLAW_ENTRY, TEST_PROVIDER_KEY } from "../helpers/openclaw-gateway.ts";
import { freePort } from "../helpers/ports.ts";
import { agentCheckJson, baseEnv, REPO_ROOT, spawnProcess, stopAll, type Spawned } from "../helpers/processes.ts";
import { gatewayUnit } from "../helpers/systemd-unit.ts";

const PATH = `${REPO_ROOT}node_modules/.bin:/usr/bin:/bin`;
const PLACEHOLDER = "__OPENCLAW_REDACTED__";
const CLIENT_TOKEN = "cf-startup-placeholder-client-9e4b2a7d";

describe("startup causes: placeholder", () => {
  const home = mkdtempSync(join(tmpdir(), "clawfleet-gw-"));
  const stateDir = join(home, ".openclaw");
  let gateway: Spawned | undefined;
  afterAll(async () => {
    await gateway?.stop("SIGTERM");
    await stopAll();
    rmSync(home, { recursive: true, force: true });
  });

  it("secret_placeholder: OPENCLAW_GATEWAY_TOKEN=__OPENCLAW_REDACTED__ in the unit and the running gateway; one finding, and the rejected client token is its consequence", async () => {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(stateDir, "openclaw.json"), JSON.stringify({ gateway: { mode: "local", bind: "loopback", auth: { mode: "token" } } }), { mode: 0o600 });
    writeFileSync(join(stateDir, ".env"), `OPENAI_API_KEY=${TEST_PROVIDER_KEY}\n`, { mode: 0o600 });
    const port = await freePort();
    const argv = [OPENCLAW_ENTRY, "gateway", "run", "--port", String(port)];
    gatewayUnit(home, stateDir, port, `${process.execPath} ${argv.join(" ")}`, `Environment=OPENCLAW_GATEWAY_TOKEN=${PLACEHOLDER}\n`);
    gateway = spawnProcess(process.execPath, argv, { ...baseEnv(), HOME: home, OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_PORT: String(port), OPENCLAW_GATEWAY_TOKEN: PLACEHOLDER }, home);
    // A full start: ~25 s on an idle 2-core host, far more when it is shared.
    await gateway.waitFor(/http server listening \(/, 150_000);

    const { code, stdout, doc } = await agentCheckJson({ HOME: home, OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_PORT: String(port), OPENCLAW_GATEWAY_TOKEN: CLIENT_TOKEN, PATH });
    expect(code).toBe(2);
    const codes = doc.findings.map((f) => [f.code, f.status, f.depends_on]);
    expect(doc.primary, JSON.stringify(codes)).toMatchObject({ code: "secret_placeholder", layer: "drift" });
    expect(doc.findings.filter((f) => f.code === "secret_placeholder"), "one fact, one finding").toHaveLength(1);
    expect(doc.findings.find((f) => f.code === "secret_placeholder")).toMatchObject({ evidence: { variable: "OPENCLAW_GATEWAY_TOKEN", placeholder: PLACEHOLDER } });
    expect(doc.findings.find((f) => f.code === "token_mismatch")?.depends_on).toBe("secret_placeholder");
    expect(doc.findings.map((f) => f.code)).not.toContain("auth_unconfigured");
    expect(doc.findings.map((f) => f.code)).not.toContain("service_env_missing");
    expect(stdout).not.toContain(CLIENT_TOKEN);
  }, 240_000);
});
