// A gateway that refuses to start because of what its config asks for: the
// real pinned gateway is put in the state, started as a service starts it,
// and refuses; then `agent check` must name that cause, not "start it".
import { afterAll, describe, expect, it } from "vitest";
import { runRefusingGateway, type RefusedGateway } from "../helpers/openclaw-gateway.ts";
import { agentCheckJson, REPO_ROOT, stopAll } from "../helpers/processes.ts";
import { expectCause, refusalIn, refusalPattern } from "../helpers/startup-cause.ts";

// The pinned openclaw (2026.9.6) first on PATH: the install a gateway started from this shell runs.
const PATH = `${REPO_ROOT}test/openclaw/node_modules/.bin:${REPO_ROOT}node_modules/.bin:/usr/bin:/bin`;

describe("startup causes: config", () => {
  const started: RefusedGateway[] = [];
  afterAll(async () => {
    await stopAll();
    await Promise.all(started.map((g) => g.cleanup()));
  });

  it("openclaw_downgraded: a config last written by a newer OpenClaw than the install that starts", async () => {
    const gateway = await runRefusingGateway({
      config: { meta: { lastTouchedVersion: "2026.10.2" }, gateway: { mode: "local", bind: "loopback" } },
      // Its warning ("Your OpenClaw config was written by version …") comes first; the refusal after it.
      until: /is older than the config last written by OpenClaw/,
    });
    started.push(gateway);
    expect(gateway.output).toContain("Your OpenClaw config was written by version 2026.10.2");
    expect(refusalIn(gateway.output)).toMatchObject({ code: "openclaw_downgraded", line: expect.stringContaining("is older than the config last written by OpenClaw 2026.10.2") });

    const { code, doc } = await agentCheckJson({ ...gateway.agentEnv(), PATH });
    expect(code).toBe(2);
    expectCause(doc, "openclaw_downgraded");
    expect(doc.findings.find((f) => f.code === "openclaw_downgraded")).toMatchObject({ evidence: { writerVersion: "2026.10.2", serviceVersion: "2026.9.6" } });
  }, 90_000);

  it("secret_unresolved: gateway.auth.token is an env SecretRef the gateway's environment does not set", async () => {
    const gateway = await runRefusingGateway({
      config: { gateway: { mode: "local", bind: "loopback", auth: { mode: "token", token: { source: "env", provider: "default", id: "CF_STARTUP_GATEWAY_SECRET" } } } },
      until: refusalPattern("secret_unresolved"),
    });
    started.push(gateway);
    expect(refusalIn(gateway.output)?.code).toBe("secret_unresolved");

    const { doc } = await agentCheckJson({ ...gateway.agentEnv(), PATH });
    expectCause(doc, "secret_unresolved");
    expect(doc.findings.find((f) => f.code === "secret_unresolved")).toMatchObject({ evidence: { variable: "CF_STARTUP_GATEWAY_SECRET", configKey: "gateway.auth.token" } });
  }, 90_000);
});
