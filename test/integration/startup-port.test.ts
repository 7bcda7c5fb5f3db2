// A gateway that cannot bind its port because another program holds it: the
// real pinned gateway is started as a service starts it and gives up; then
// `agent check` must name the holder (pid, executable) as the cause.
import { createServer, type Server } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { runRefusingGateway, type RefusedGateway } from "../helpers/openclaw-gateway.ts";
import { freePort } from "../helpers/ports.ts";
import { agentCheckJson, REPO_ROOT, stopAll } from "../helpers/processes.ts";
import { expectCause, refusalIn, refusalPattern } from "../helpers/startup-cause.ts";

const PATH = `${REPO_ROOT}node_modules/.bin:/usr/bin:/bin`;
const TOKEN = "cf-startup-port-token-7d3e9a1b5c2f";

describe("startup causes: port", () => {
  let holder: Server | undefined;
  let gateway: RefusedGateway | undefined;
  afterAll(async () => {
    await stopAll();
    await new Promise((resolve) => (holder ? holder.close(resolve) : resolve(undefined)));
    await gateway?.cleanup();
  });

  it("port_in_use: a program that is not a gateway listens on the gateway's port", async () => {
    // The holder is this test's own Node process: its pid and executable are known exactly.
    const port = await freePort();
    holder = createServer((_req, res) => res.end("not a gateway"));
    await new Promise<void>((resolve) => holder!.listen(port, "127.0.0.1", resolve));

    gateway = await runRefusingGateway({ config: { gateway: { mode: "local", bind: "loopback" } }, env: { OPENCLAW_GATEWAY_TOKEN: TOKEN }, port, until: refusalPattern("port_in_use"), timeoutMs: 80_000 });
    expect(refusalIn(gateway.output)).toMatchObject({ code: "port_in_use", line: expect.stringContaining(`another gateway instance is already listening on ws://127.0.0.1:${port}`) });

    const { code, stdout, doc } = await agentCheckJson({ ...gateway.agentEnv(), OPENCLAW_GATEWAY_TOKEN: TOKEN, PATH });
    expect(code).toBe(2);
    // Something answers on the port, so the gateway check sees "not ready": the consequence.
    expectCause(doc, "port_in_use", "not_ready");
    expect(doc.findings.find((f) => f.code === "port_in_use")).toMatchObject({ evidence: { pid: String(process.pid), executable: process.execPath, port: String(port) } });
    expect(stdout).not.toContain(TOKEN);
  }, 120_000);
});
