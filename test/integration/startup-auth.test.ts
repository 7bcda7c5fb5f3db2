// A gateway whose auth has no secret it can reach. OpenClaw 2026.9.6 does not
// refuse on loopback: it starts on a random runtime token (the real gateway
// below does), so every client token is rejected; older versions refused to
// start ("Gateway auth is set to token, but no token is configured",
// openclaw#13692). Either way the cause is the missing secret, not the client.
import { afterAll, describe, expect, it } from "vitest";
import { serviceGateway, TEST_PROVIDER_KEY, type ServiceGateway } from "../helpers/openclaw-gateway.ts";
import { agentCheckJson, REPO_ROOT, stopAll } from "../helpers/processes.ts";
import { expectCause } from "../helpers/startup-cause.ts";

const PATH = `${REPO_ROOT}node_modules/.bin:/usr/bin:/bin`;
const CLIENT_TOKEN = "cf-startup-auth-client-token-3f8a2d6c";

describe("startup causes: auth", () => {
  let gateway: ServiceGateway | undefined;
  afterAll(async () => {
    await stopAll();
    await gateway?.cleanup();
  });

  it("auth_unconfigured: token mode, no token in the config or the gateway's environment, while the shell's clients hold one", async () => {
    gateway = await serviceGateway({ gateway: { mode: "local", bind: "loopback", auth: { mode: "token" } } }, { ".env": `OPENAI_API_KEY=${TEST_PROVIDER_KEY}\n` });
    const { home, stateDir, port } = gateway;
    // As a service starts it, with a service environment that lost the token.
    // A full start: ~25 s on an idle 2-core host, far more when it is shared.
    await gateway.start({});

    const { code, stdout, doc } = await agentCheckJson({ HOME: home, OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_PORT: String(port), OPENCLAW_GATEWAY_TOKEN: CLIENT_TOKEN, PATH });
    expect(code).toBe(2);
    expectCause(doc, "auth_unconfigured", "token_mismatch");
    expect(doc.findings.find((f) => f.code === "auth_unconfigured")).toMatchObject({ status: "fail", evidence: { authMode: "token", variable: "OPENCLAW_GATEWAY_TOKEN" } });
    expect(doc.findings.find((f) => f.check === "gateway")!.status).toBe("ok");
    expect(stdout).not.toContain(CLIENT_TOKEN);
  }, 240_000);
});
