// A gateway that refuses to start because of how it is bound: the real pinned
// gateway is put in the state (its config), started as a service starts it,
// and refuses; then `agent check` must name that cause, not "start it".
import { afterAll, describe, expect, it } from "vitest";
import { runRefusingGateway, type RefusedGateway } from "../helpers/openclaw-gateway.ts";
import { agentCheckJson, REPO_ROOT, stopAll } from "../helpers/processes.ts";
import { expectCause, refusalIn, refusalPattern } from "../helpers/startup-cause.ts";

const PATH = `${REPO_ROOT}node_modules/.bin:/usr/bin:/bin`;

describe("startup causes: bind", () => {
  const started: RefusedGateway[] = [];
  afterAll(async () => {
    await stopAll();
    await Promise.all(started.map((g) => g.cleanup()));
  });

  it("bind_without_auth: gateway.bind lan with auth none", async () => {
    const gateway = await runRefusingGateway({ config: { gateway: { mode: "local", bind: "lan", auth: { mode: "none" } } }, until: refusalPattern("bind_without_auth") });
    started.push(gateway);
    expect(refusalIn(gateway.output)).toMatchObject({ code: "bind_without_auth", line: expect.stringContaining("Refusing to bind gateway to lan without auth.") });

    const { code, doc } = await agentCheckJson({ ...gateway.agentEnv(), PATH });
    expect(code).toBe(2);
    expectCause(doc, "bind_without_auth");
    expect(doc.findings.find((f) => f.code === doc.primary!.code)).toMatchObject({ evidence: { bind: "lan", authMode: "none" } });
    // auth none is still a posture finding, but a consequence here, not a second cause.
    expect(doc.findings.find((f) => f.code === "auth_disabled")?.depends_on).toBe("bind_without_auth");
  }, 90_000);

  it("tailscale_bind_conflict: Tailscale serve with gateway.bind lan", async () => {
    const token = "cf-startup-bind-token-4b1d8e2a6c9f";
    const gateway = await runRefusingGateway({
      config: { gateway: { mode: "local", bind: "lan", tailscale: { mode: "serve" }, auth: { mode: "token", token } } },
      until: refusalPattern("tailscale_bind_conflict"),
    });
    started.push(gateway);
    expect(refusalIn(gateway.output)?.code).toBe("tailscale_bind_conflict");

    const { stdout, doc } = await agentCheckJson({ ...gateway.agentEnv(), PATH });
    expectCause(doc, "tailscale_bind_conflict");
    expect(doc.findings.find((f) => f.code === doc.primary!.code)).toMatchObject({ evidence: { tailscaleMode: "serve", bind: "lan" } });
    expect(doc.findings.map((f) => f.code)).not.toContain("gateway_exposed");
    expect(stdout).not.toContain(token);
  }, 90_000);
});
