// A service environment holding OpenClaw's display placeholder instead of the
// gateway token (openclaw#13340: `gateway install` wrote __OPENCLAW_REDACTED__).
// The real gateway, started with that environment as the service starts it,
// refuses ("… is a known redaction sentinel, not a credential"); `agent check`
// must name the missing token, once, and not advise starting the service.
import { afterAll, describe, expect, it } from "vitest";
import { runRefusingGateway, type RefusedGateway } from "../helpers/openclaw-gateway.ts";
import { agentCheckJson, REPO_ROOT, stopAll } from "../helpers/processes.ts";
import { expectCause, refusalIn, refusalPattern } from "../helpers/startup-cause.ts";
import { gatewayUnit } from "../helpers/systemd-unit.ts";

const PATH = `${REPO_ROOT}node_modules/.bin:/usr/bin:/bin`;
const PLACEHOLDER = "__OPENCLAW_REDACTED__";
const CLIENT_TOKEN = "cf-startup-placeholder-client-9e4b2a7d";

describe("startup causes: a placeholder as the gateway token", () => {
  let gateway: RefusedGateway | undefined;
  afterAll(async () => {
    await stopAll();
    await gateway?.cleanup();
  });

  it("auth_unconfigured: OPENCLAW_GATEWAY_TOKEN=__OPENCLAW_REDACTED__ in the unit the gateway runs from", async () => {
    gateway = await runRefusingGateway({
      config: { gateway: { mode: "local", bind: "loopback", auth: { mode: "token" } } },
      env: { OPENCLAW_GATEWAY_TOKEN: PLACEHOLDER },
      until: refusalPattern("auth_unconfigured"),
    });
    expect(refusalIn(gateway.output)).toMatchObject({ code: "auth_unconfigured", line: expect.stringContaining("Gateway auth token is a known redaction sentinel, not a credential") });
    const argv = ["gateway", "run", "--port", String(gateway.port)];
    gatewayUnit(gateway.home, gateway.stateDir, gateway.port, `${process.execPath} ${argv.join(" ")}`, `Environment=OPENCLAW_GATEWAY_TOKEN=${PLACEHOLDER}\n`);

    const { code, stdout, doc } = await agentCheckJson({ ...gateway.agentEnv(), OPENCLAW_GATEWAY_TOKEN: CLIENT_TOKEN, PATH });
    expect(code).toBe(2);
    expectCause(doc, "auth_unconfigured");
    expect(doc.findings.find((f) => f.code === "auth_unconfigured")).toMatchObject({ evidence: { variable: "OPENCLAW_GATEWAY_TOKEN", placeholder: PLACEHOLDER } });
    // One fact, one finding: not also a placeholder, nor a variable missing from the service.
    expect(doc.findings.map((f) => f.code)).not.toContain("secret_placeholder");
    expect(doc.findings.map((f) => f.code)).not.toContain("service_env_missing");
    expect(stdout).not.toContain(CLIENT_TOKEN);
  }, 90_000);
});
