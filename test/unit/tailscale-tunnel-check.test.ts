// The tunnel check in-process, for the Tailscale states and Serve setups that
// decide the verdict before any path is probed (the path itself is exercised
// against a real gateway in test/integration/tunnel.test.ts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { tunnelCheck } from "../../agent/checks/tunnel.ts";
import { discoverOpenClaw } from "../../agent/discovery/openclaw-world.ts";
import type { Finding } from "../../shared/finding.ts";
import { serveConfigFixture, startFakeLocalApi, statusFixture, type FakeLocalApi } from "../fakes/tailscale-localapi.ts";
import { runCheckWith } from "../helpers/check-context.ts";

const PORT = 18789;

describe("tunnel check: Tailscale state and Serve mapping", () => {
  let api: FakeLocalApi;
  let home: string;
  beforeAll(async () => {
    api = await startFakeLocalApi();
  });
  afterAll(async () => api?.close());
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "clawfleet-tunnel-unit-"));
    mkdirSync(join(home, ".openclaw"));
    api.running();
    api.serveMissing();
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  /** Runs the check with the gateway's loopback port closed, so nothing goes past LocalAPI. */
  async function run(options: { config?: object; env?: Record<string, string> } = {}): Promise<Finding[]> {
    if (options.config) writeFileSync(join(home, ".openclaw", "openclaw.json"), JSON.stringify(options.config));
    const world = discoverOpenClaw({ HOME: home, OPENCLAW_GATEWAY_PORT: String(PORT), PATH: "", CLAWFLEET_TAILSCALE_SOCKET: api.socketPath, ...options.env });
    return runCheckWith(tunnelCheck, world, { loopback: false });
  }
  const codes = (findings: Finding[]) => findings.map((f) => f.code || f.status);

  it("skips when Tailscale is absent and the gateway is loopback-only, fails when the config asks for Tailscale", async () => {
    const absent = { CLAWFLEET_TAILSCALE_SOCKET: join(home, "none.sock") };
    expect(await run({ env: absent })).toMatchObject([{ status: "skip", summary: expect.stringMatching(/not installed.*loopback only/) }]);
    expect(await run({ env: absent, config: { gateway: { bind: "loopback" } } })).toMatchObject([{ status: "skip" }]);
    expect(codes(await run({ env: absent, config: { gateway: { bind: "lan" } } }))).toEqual(["skip"]);
    expect(codes(await run({ env: absent, config: { gateway: { tailscale: { mode: "serve" } } } }))).toEqual(["tailscale_not_running"]);
    expect(codes(await run({ env: absent, config: { gateway: { bind: "tailnet" } } }))).toEqual(["tailscale_not_running"]);
  });

  it("maps every BackendState that is not Running to its code", async () => {
    api.needsLogin();
    expect(codes(await run())).toEqual(["tailscale_needs_login"]);
    api.keyExpired();
    const [expired] = await run();
    expect(expired).toMatchObject({ code: "tailscale_key_expired", evidence: { backendState: "NeedsLogin", dnsName: "mini-01.tail1234.ts.net" } });
    api.stopped();
    expect(await run()).toMatchObject([{ code: "tailscale_not_running", status: "fail", evidence: { backendState: "Stopped", health: "Tailscale is stopped." } }]);
    api.noState();
    expect(codes(await run())).toEqual(["tailscale_not_running"]);
    api.setStatus({ ...statusFixture("needs-login"), BackendState: "NeedsMachineAuth", Health: [] });
    expect(await run()).toMatchObject([{ code: "tailscale_needs_login", summary: expect.stringMatching(/approve this machine/) }]);
    api.setStatus({ ...statusFixture("running"), BackendState: "Starting" });
    expect(await run()).toMatchObject([{ code: "tailscale_not_running", status: "warn" }]);
  });

  it("reports serve_not_configured when gateway.tailscale.mode is serve and no route maps the gateway", async () => {
    const findings = await run({ config: { gateway: { tailscale: { mode: "serve" } } } });
    expect(findings).toMatchObject([{ code: "serve_not_configured", evidence: { tailscaleMode: "serve", port: String(PORT), backendState: "Running" } }]);
    expect(findings[0]!.action).toContain(`tailscale serve --bg ${PORT}`);
  });

  it("does not ask for Serve when OpenClaw does not manage it: Tailscale up, nothing published, nothing to probe", async () => {
    expect(await run()).toMatchObject([{ status: "ok", code: "", summary: expect.stringMatching(/no Serve route publishes the gateway/) }]);
  });

  it("recognises OpenClaw's managed foreground route to its own listener, and leaves the path to the loopback gate", async () => {
    api.serveForeground({ host: "mini-01.tail1234.ts.net", targetPort: 40123 });
    const [finding] = await run({ config: { gateway: { bind: "loopback", tailscale: { mode: "serve" } } } });
    expect(finding).toMatchObject({
      status: "skip",
      summary: expect.stringMatching(/not probed: the gateway does not answer on loopback/),
      evidence: { serveTarget: "managed-listener", serveProxy: "http://127.0.0.1:40123", tailnetUrl: "https://mini-01.tail1234.ts.net", urlSource: "serve" },
    });
  });

  // Real shapes: `tailscale serve --bg --tcp=<port> <port>` (typeclaw/typeclaw#34),
  // a TLS-terminated forward (isaackehle/iac pihole/serve.json.tmpl) and a TCP
  // Service (tailscale/tailscale#18289); see test/fixtures/tailscale/README.md.
  it("a raw TCP forward to the gateway is its Serve route in serve mode, not serve_not_configured; the probe speaks http:// to port 443", async () => {
    api.setServeConfig(serveConfigFixture("tcp-forward", { host: "mini-01.tail1234.ts.net", targetPort: PORT }));
    const findings = await run({ config: { gateway: { tailscale: { mode: "serve" } } } });
    expect(codes(findings)).toEqual(["skip"]);
    expect(findings[0]).toMatchObject({
      summary: expect.stringMatching(/not probed: the gateway does not answer on loopback/),
      evidence: { serveKind: "tcp forward", serveScope: "TCP", serveKey: "mini-01.tail1234.ts.net:443", serveProxy: `127.0.0.1:${PORT}`, serveTarget: "gateway-port", tailnetUrl: "http://mini-01.tail1234.ts.net:443", urlSource: "serve" },
    });
    expect(findings[0]!.evidence.serveNote).toMatch(/plain HTTP and WebSocket/);
  });

  it("a TLS-terminated TCP forward and a TCP Service each count as the gateway's route, named by kind", async () => {
    api.setServeConfig(serveConfigFixture("tls-terminated-tcp", { host: "mini-01.tail1234.ts.net", targetPort: PORT }));
    const [tls] = await run({ config: { gateway: { tailscale: { mode: "serve" } } } });
    expect(tls).toMatchObject({ status: "skip", evidence: { serveKind: "tls-terminated tcp", tailnetUrl: "https://mini-01.tail1234.ts.net" } });
    api.setServeConfig(serveConfigFixture("service-tcp", { host: "mini-01.tail1234.ts.net", targetPort: PORT }));
    const [service] = await run({ config: { gateway: { tailscale: { mode: "serve" } } } });
    expect(service).toMatchObject({ status: "skip", evidence: { serveKind: "service svc:openclaw, tcp forward", serveProxy: `localhost:${PORT}`, tailnetUrl: "http://openclaw.tail1234.ts.net:443" } });
  });

  it("derives http://<tailnet IPv4>:<port> for gateway.bind tailnet", async () => {
    const [finding] = await run({ config: { gateway: { bind: "tailnet" } } });
    expect(finding?.evidence).toMatchObject({ tailnetUrl: `http://100.101.102.103:${PORT}`, urlSource: "tailnet bind" });
  });

  it("lets CLAWFLEET_TAILNET_URL override the derived URL", async () => {
    api.serveBackground({ host: "mini-01.tail1234.ts.net", targetPort: PORT });
    const [finding] = await run({ env: { CLAWFLEET_TAILNET_URL: "https://127.0.0.2:9443/" } });
    expect(finding?.evidence).toMatchObject({ serveKey: "mini-01.tail1234.ts.net:443", tailnetUrl: "https://127.0.0.2:9443", urlSource: "CLAWFLEET_TAILNET_URL" });
  });

  it("reports tailscale_not_running with the connection error when the socket exists but does not answer", async () => {
    const stale = join(home, "stale.sock");
    writeFileSync(stale, "");
    const [finding] = await run({ env: { CLAWFLEET_TAILSCALE_SOCKET: stale } });
    expect(finding).toMatchObject({ code: "tailscale_not_running", evidence: { localApiError: expect.stringMatching(/^E[A-Z]+$/) } });
  });
});
