// A gateway whose auth has no secret it can reach. OpenClaw 2026.9.6 does not
// refuse on loopback: it starts on a random runtime token (the real gateway
// below does), so every client token is rejected; older versions refused to
// start ("Gateway auth is set to token, but no token is configured",
// openclaw#13692). Either way the cause is the missing secret, not the client.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OPENCLAW_ENTRY, TEST_PROVIDER_KEY, waitServing } from "../helpers/openclaw-gateway.ts";
import { freePort } from "../helpers/ports.ts";
import { agentCheckJson, baseEnv, REPO_ROOT, spawnProcess, stopAll, type Spawned } from "../helpers/processes.ts";
import { expectCause } from "../helpers/startup-cause.ts";

const PATH = `${REPO_ROOT}node_modules/.bin:/usr/bin:/bin`;
const CLIENT_TOKEN = "cf-startup-auth-client-token-3f8a2d6c";

describe("startup causes: auth", () => {
  const home = mkdtempSync(join(tmpdir(), "clawfleet-gw-"));
  const stateDir = join(home, ".openclaw");
  let gateway: Spawned | undefined;
  afterAll(async () => {
    await gateway?.stop("SIGTERM");
    await stopAll();
    rmSync(home, { recursive: true, force: true });
  });

  it("auth_unconfigured: token mode, no token in the config or the gateway's environment, while the shell's clients hold one", async () => {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(stateDir, "openclaw.json"), JSON.stringify({ gateway: { mode: "local", bind: "loopback", auth: { mode: "token" } } }), { mode: 0o600 });
    writeFileSync(join(stateDir, ".env"), `OPENAI_API_KEY=${TEST_PROVIDER_KEY}\n`, { mode: 0o600 });
    const port = await freePort();
    const env = { ...baseEnv(), HOME: home, OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_PORT: String(port) };
    // As a service starts it, with a service environment that lost the token.
    const startedAt = Date.now();
    gateway = spawnProcess(process.execPath, [OPENCLAW_ENTRY, "gateway", "run", "--port", String(port)], env, home);
    // A full start: ~25 s on an idle 2-core host, far more when it is shared.
    await waitServing(port, gateway, stateDir, startedAt, 150_000);

    const { code, stdout, doc } = await agentCheckJson({ HOME: home, OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_PORT: String(port), OPENCLAW_GATEWAY_TOKEN: CLIENT_TOKEN, PATH });
    expect(code).toBe(2);
    expectCause(doc, "auth_unconfigured", "token_mismatch");
    expect(doc.findings.find((f) => f.code === "auth_unconfigured")).toMatchObject({ status: "fail", evidence: { authMode: "token", variable: "OPENCLAW_GATEWAY_TOKEN" } });
    expect(doc.findings.find((f) => f.check === "gateway")!.status).toBe("ok");
    expect(stdout).not.toContain(CLIENT_TOKEN);
  }, 240_000);
});
