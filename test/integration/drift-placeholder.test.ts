// A placeholder where a provider key belongs (openclaw#13340): the service's
// OPENAI_API_KEY is __OPENCLAW_REDACTED__. The real gateway starts with it (it
// is not its own secret) and serves; `agent check` must name the placeholder.
import { afterAll, describe, expect, it } from "vitest";
import { serviceGateway, type ServiceGateway } from "../helpers/openclaw-gateway.ts";
import { agentCheckJson, REPO_ROOT, stopAll } from "../helpers/processes.ts";
import { gatewayUnit } from "../helpers/systemd-unit.ts";

const PATH = `${REPO_ROOT}node_modules/.bin:/usr/bin:/bin`;
const PLACEHOLDER = "__OPENCLAW_REDACTED__";
const TOKEN = "cf-drift-placeholder-token-5a1c7e3b9d";

describe("a placeholder where a provider key belongs", () => {
  let gateway: ServiceGateway | undefined;
  afterAll(async () => {
    await stopAll();
    await gateway?.cleanup();
  });

  it("secret_placeholder: OPENAI_API_KEY=__OPENCLAW_REDACTED__ in the unit and the running gateway, reported once", async () => {
    gateway = await serviceGateway({ gateway: { mode: "local", bind: "loopback", auth: { mode: "token" } } });
    const { home, stateDir, port, argv } = gateway;
    gatewayUnit(home, stateDir, port, `${process.execPath} ${argv.join(" ")}`, `Environment=OPENCLAW_GATEWAY_TOKEN=${TOKEN}\nEnvironment=OPENAI_API_KEY=${PLACEHOLDER}\n`);
    // A full start: ~25 s on an idle 2-core host, far more when it is shared.
    await gateway.start({ OPENCLAW_GATEWAY_TOKEN: TOKEN, OPENAI_API_KEY: PLACEHOLDER });

    const { stdout, doc } = await agentCheckJson({ HOME: home, OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_PORT: String(port), OPENCLAW_GATEWAY_TOKEN: TOKEN, PATH });
    const placeholders = doc.findings.filter((f) => f.code === "secret_placeholder");
    expect(placeholders, JSON.stringify(doc.findings.map((f) => [f.code, f.status, f.depends_on]))).toHaveLength(1);
    expect(placeholders[0]).toMatchObject({ layer: "drift", status: "fail", evidence: { variable: "OPENAI_API_KEY", placeholder: PLACEHOLDER } });
    expect(doc.findings.find((f) => f.check === "gateway")!.status).toBe("ok");
    expect(doc.primary?.code).toBe("secret_placeholder");
    expect(stdout).not.toContain(TOKEN);
  }, 240_000);
});
