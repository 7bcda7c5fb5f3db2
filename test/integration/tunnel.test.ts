// The tunnel check end to end: a real OpenClaw gateway on 127.0.0.1, a TLS
// reverse proxy on 127.0.0.2 standing in for Tailscale Serve (real TLS from a
// test CA the agent trusts through NODE_EXTRA_CA_CERTS), a LocalAPI-shaped
// server on a unix socket standing in for tailscaled, and the real
// `clawfleet agent check --json` as a child process for every scenario.
//
// Addressing: tailscaled cannot run here, so no MagicDNS name points at the
// proxy. The fake node's Self.DNSName is `localhost.` (it resolves through the
// real resolver), its Serve route is keyed `localhost:<proxy port>`, and
// CLAWFLEET_TAILNET_URL sends the path probes to https://127.0.0.2:<port>, an
// address distinct from the gateway's. One scenario drops the override and
// lets the agent derive https://localhost:<port> from Serve, through a second
// proxy on 127.0.0.1. The certificate names localhost, 127.0.0.1 and 127.0.0.2.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startServeProxy, type ServeProxy } from "../fakes/serve-proxy.ts";
import { serveConfigFixture, startFakeLocalApi, type FakeLocalApi } from "../fakes/tailscale-localapi.ts";
import { startTcpForward } from "../fakes/tcp-forward.ts";
import { createGateway, type TestGateway } from "../helpers/openclaw-gateway.ts";
import { agentCheckJson, stopAll, type CheckDocument } from "../helpers/processes.ts";
import { createTestPki, type TestPki } from "../helpers/tls.ts";

const TOKEN = "cf-tunnel-token-5e1b9d3a7c2f4e6b8a0d";
/** The fake node's tailnet address, which Serve puts in X-Forwarded-For. */
const NODE_IP = "100.101.102.103";

type Finding = CheckDocument["findings"][number];

interface CheckRun {
  exitCode: number | null;
  verdict: string;
  primary: { layer: string; code: string } | null;
  tunnel: Finding[];
  session: Finding | undefined;
  /** The tunnel finding with a code, when there is exactly one. */
  problem: Finding | undefined;
}

describe("tunnel check: `agent check --json` through a Serve-shaped proxy to a real gateway", () => {
  let gateway: TestGateway;
  let pki: TestPki;
  let localApi: FakeLocalApi;
  let proxy: ServeProxy;
  let localProxy: ServeProxy;
  let dir: string;
  const outputs: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-tunnel-"));
    pki = createTestPki();
    const names = ["DNS:localhost", "IP:127.0.0.1", "IP:127.0.0.2"];
    const certs = { trusted: pki.issue("serve", names), untrusted: pki.selfSigned("rogue", names), wrongName: pki.issue("elsewhere", ["DNS:elsewhere.example", "IP:192.0.2.10"]) };
    [gateway, localApi] = await Promise.all([createGateway({ token: TOKEN }), startFakeLocalApi()]);
    [proxy, localProxy] = await Promise.all([
      startServeProxy({ host: "127.0.0.2", upstreamPort: gateway.port, certs, forwardedFor: NODE_IP }),
      startServeProxy({ host: "127.0.0.1", upstreamPort: gateway.port, certs, forwardedFor: NODE_IP }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([proxy?.stop(), localProxy?.stop(), localApi?.close()]);
    await stopAll();
    await gateway?.cleanup();
    pki?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    // Every scenario starts from a healthy tailnet path and breaks one thing.
    localApi.running({ dnsName: "localhost." });
    localApi.serveForeground({ host: "localhost", httpsPort: proxy.port, targetPort: gateway.port });
    proxy.setVariant("faithful");
  });

  async function agentCheck(env: Record<string, string | undefined> = {}): Promise<CheckRun> {
    const result = await agentCheckJson({
      ...gateway.clientEnv(),
      CLAWFLEET_TAILSCALE_SOCKET: localApi.socketPath,
      CLAWFLEET_TAILNET_URL: proxy.url,
      NODE_EXTRA_CA_CERTS: pki.caPath,
      ...env,
    });
    outputs.push(result.stdout + result.stderr);
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
    const doc = result.doc;
    const tunnel = doc.findings.filter((f) => f.layer === "tunnel");
    const problems = tunnel.filter((f) => f.code);
    return {
      exitCode: result.code,
      verdict: doc.verdict,
      primary: doc.primary,
      tunnel,
      session: doc.findings.find((f) => f.layer === "session"),
      problem: problems.length === 1 ? problems[0] : undefined,
    };
  }

  /** A tunnel failure with loopback fine: the session layer stays ok and the tunnel code is the root cause. */
  function expectTunnelFault(run: CheckRun, code: string) {
    expect(run.tunnel.filter((f) => f.code).map((f) => f.code)).toEqual([code]);
    expect(run.problem).toMatchObject({ check: "tunnel", status: "fail", code });
    expect(run.session).toMatchObject({ status: "ok", code: null });
    expect(run.primary).toMatchObject({ layer: "tunnel", code });
    expect(run.verdict).toBe("fail");
    expect(run.exitCode).toBe(2);
  }

  it("passes when the gateway answers through the tailnet URL as on loopback", async () => {
    const run = await agentCheck();
    expect(run.tunnel).toHaveLength(1);
    const [finding] = run.tunnel;
    expect(finding).toMatchObject({ status: "ok", code: null });
    expect(finding!.evidence).toMatchObject({
      backendState: "Running",
      dnsName: "localhost",
      serveKey: `localhost:${proxy.port}`,
      serveScope: "Foreground.6f1d2c3b4a596877.Web",
      serveTarget: "gateway-port",
      tailnetUrl: proxy.url,
      urlSource: "CLAWFLEET_TAILNET_URL",
      healthzStatus: "200",
      tokenStatus: "HTTP 400 invalid_request",
      loopbackTokenStatus: "HTTP 400 invalid_request",
      wsOutcome: "accepted",
      fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{12}$/),
    });
    expect(finding!.evidence.localApi).toContain(localApi.socketPath);
    expect(run.session).toMatchObject({ status: "ok" });
    expect([run.verdict, run.exitCode]).toEqual(["ok", 0]);
    // The probes really went through the proxy: token over HTTP, and a WebSocket upgrade.
    expect(proxy.forwarded.some((r) => r.path === "/tools/invoke" && r.headerNames.includes("authorization"))).toBe(true);
    expect(proxy.forwarded.some((r) => r.upgrade)).toBe(true);
    // LocalAPI was asked the way tailscale's own client asks.
    expect(localApi.requests.map((r) => [r.path, r.host, r.status])).toEqual(expect.arrayContaining([
      ["/localapi/v0/status?peers=false", "local-tailscaled.sock", 200],
      ["/localapi/v0/serve-config", "local-tailscaled.sock", 200],
    ]));
  });

  it("derives https://localhost:<port> from the Serve mapping and MagicDNS when no URL override is set", async () => {
    localApi.serveBackground({ host: "localhost", httpsPort: localProxy.port, targetPort: gateway.port });
    const run = await agentCheck({ CLAWFLEET_TAILNET_URL: undefined });
    expect(run.tunnel).toHaveLength(1);
    expect(run.tunnel[0]).toMatchObject({
      status: "ok",
      evidence: { tailnetUrl: `https://localhost:${localProxy.port}`, urlSource: "serve", serveScope: "Web", wsOutcome: "accepted", tokenStatus: "HTTP 400 invalid_request" },
    });
    expect(run.tunnel[0]!.evidence.dnsAddresses).toMatch(/127\.0\.0\.1|::1/);
    expect([run.verdict, run.exitCode]).toEqual(["ok", 0]);
  });

  it("passes through a raw TCP forward (`tailscale serve --tcp`) in serve mode: http:// and ws:// to port <forward>, no false serve_not_configured", async () => {
    const forward = await startTcpForward({ upstreamPort: gateway.port });
    try {
      localApi.setServeConfig(serveConfigFixture("tcp-forward", { host: "localhost", httpsPort: forward.port, targetPort: gateway.port }));
      const configPath = join(dir, "serve-mode-tcp.json");
      writeFileSync(configPath, JSON.stringify({ gateway: { bind: "loopback", tailscale: { mode: "serve" } } }), { mode: 0o600 });
      const run = await agentCheck({ CLAWFLEET_TAILNET_URL: undefined, OPENCLAW_CONFIG_PATH: configPath });
      expect(run.tunnel).toHaveLength(1);
      expect(run.tunnel[0]).toMatchObject({
        status: "ok",
        code: null,
        evidence: {
          serveKind: "tcp forward", serveScope: "TCP", serveKey: `localhost:${forward.port}`, serveProxy: `127.0.0.1:${gateway.port}`, serveTarget: "gateway-port",
          tailnetUrl: `http://localhost:${forward.port}`, urlSource: "serve", healthzStatus: "200", tokenStatus: "HTTP 400 invalid_request", wsOutcome: "accepted",
        },
      });
      expect(run.tunnel[0]!.summary).toMatch(/^The gateway answers through http:\/\/localhost:\d+ as on loopback: \/healthz 200, .*raw TCP forward: tailnet clients speak the gateway's own plain HTTP and WebSocket/);
      expect(run.tunnel[0]!.summary).not.toContain("TLS, ");
      expect(forward.connections).toBeGreaterThanOrEqual(3);
      // The CLI config (serve mode) differs from what the gateway was started with: other layers may warn, the tunnel does not.
      expect(run.session).toMatchObject({ status: "ok" });
      expect(run.primary?.layer).not.toBe("tunnel");
    } finally {
      await forward.stop();
    }
  });

  it("reports tailnet_unreachable naming the PROXY protocol header when a TCP forward sends one the gateway does not speak", async () => {
    const forward = await startTcpForward({ upstreamPort: gateway.port, proxyProtocolV1: true });
    try {
      localApi.setServeConfig({ TCP: { [String(forward.port)]: { TCPForward: `127.0.0.1:${gateway.port}`, ProxyProtocol: 1 } } });
      const run = await agentCheck({ CLAWFLEET_TAILNET_URL: undefined });
      expectTunnelFault(run, "tailnet_unreachable");
      expect(run.problem!.evidence).toMatchObject({ serveKind: "tcp forward", serveProxyProtocol: "1", tailnetUrl: `http://localhost:${forward.port}` });
      expect(run.problem!.summary).toContain("sends a PROXY protocol v1 header first, which the gateway does not speak");
    } finally {
      await forward.stop();
    }
  });

  it("reports headers_stripped when the proxy drops Authorization: loopback accepts the token, the path answers 401", async () => {
    proxy.setVariant("strip-authorization");
    const run = await agentCheck();
    expectTunnelFault(run, "headers_stripped");
    expect(run.problem!.evidence).toMatchObject({ tokenStatus: "HTTP 401 unauthorized", loopbackTokenStatus: "HTTP 400 invalid_request", wsOutcome: "accepted" });
    expect(run.problem!.action).toContain(proxy.url);
    const invoke = proxy.forwarded.filter((r) => r.path === "/tools/invoke").at(-1);
    expect(invoke?.headerNames).not.toContain("authorization");
  });

  it("reports proxy_attribution_required when the proxy adds X-Forwarded-* the gateway does not trust, and marks the blocked WebSocket as its consequence", async () => {
    proxy.setVariant("forwarding-headers");
    const run = await agentCheck();
    const codes = run.tunnel.filter((f) => f.code).map((f) => f.code);
    expect(codes.sort()).toEqual(["proxy_attribution_required", "websocket_blocked"]);
    expect(run.tunnel.find((f) => f.code === "proxy_attribution_required")).toMatchObject({ status: "fail", evidence: { tokenStatus: "HTTP 403 proxy_attribution_required", healthzStatus: "200" } });
    expect(run.tunnel.find((f) => f.code === "websocket_blocked")).toMatchObject({ depends_on: "proxy_attribution_required" });
    expect(run.primary).toMatchObject({ layer: "tunnel", code: "proxy_attribution_required" });
    expect(run.session).toMatchObject({ status: "ok" });
    expect([run.verdict, run.exitCode]).toEqual(["fail", 2]);
  });

  it("reports websocket_blocked when HTTP passes but the proxy does not forward the upgrade", async () => {
    proxy.setVariant("block-websocket");
    const run = await agentCheck();
    expectTunnelFault(run, "websocket_blocked");
    expect(run.problem!.evidence).toMatchObject({ healthzStatus: "200", tokenStatus: "HTTP 400 invalid_request", wsOutcome: "unreachable" });
  });

  it("reports tls_failed for a self-signed certificate nobody trusts", async () => {
    proxy.setVariant("untrusted-cert");
    const run = await agentCheck();
    expectTunnelFault(run, "tls_failed");
    expect(run.problem!.evidence.tlsError).toMatch(/^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)/);
    expect(run.problem!.action).toContain(run.problem!.evidence.tlsError);
  });

  it("reports tls_failed for a trusted certificate issued to another name", async () => {
    proxy.setVariant("wrong-name-cert");
    const run = await agentCheck();
    expectTunnelFault(run, "tls_failed");
    expect(run.problem!.evidence.tlsError).toMatch(/^ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it("reports tailnet_unreachable when nothing answers at the tailnet URL", async () => {
    await proxy.stop();
    try {
      const run = await agentCheck();
      expectTunnelFault(run, "tailnet_unreachable");
      expect(run.problem!.evidence).toMatchObject({ healthzError: "ECONNREFUSED", url: proxy.url });
    } finally {
      await proxy.start();
    }
  });

  it("reports tailscale_needs_login when the node is logged out, and probes nothing further", async () => {
    localApi.needsLogin();
    const before = proxy.forwarded.length;
    const run = await agentCheck();
    expectTunnelFault(run, "tailscale_needs_login");
    expect(run.problem!.evidence).toMatchObject({ backendState: "NeedsLogin", health: "You are logged out." });
    expect(proxy.forwarded.length).toBe(before);
  });

  it("reports tailscale_key_expired when NeedsLogin comes from an expired node key", async () => {
    localApi.keyExpired();
    const run = await agentCheck();
    expectTunnelFault(run, "tailscale_key_expired");
    expect(Date.parse(run.problem!.evidence.keyExpiry!)).toBeLessThan(Date.now());
  });

  it("reports tailscale_not_running when Tailscale is stopped or has no state yet", async () => {
    localApi.stopped();
    const stopped = await agentCheck();
    expectTunnelFault(stopped, "tailscale_not_running");
    expect(stopped.problem!.evidence.backendState).toBe("Stopped");

    localApi.noState();
    const noState = await agentCheck();
    expectTunnelFault(noState, "tailscale_not_running");
    expect(noState.problem!.evidence.backendState).toBe("NoState");
  });

  it("reports tailscale_not_running when tailscaled's socket is there but nobody answers", async () => {
    const stale = join(dir, "stale.sock");
    writeFileSync(stale, "");
    const run = await agentCheck({ CLAWFLEET_TAILSCALE_SOCKET: stale });
    expectTunnelFault(run, "tailscale_not_running");
    expect(run.problem!.evidence.localApiError).toMatch(/^E[A-Z]+/);
  });

  it("reports magicdns_unresolved when the node's name does not resolve, not the path failures behind it", async () => {
    const name = "mini-01.clawfleet-test.invalid";
    localApi.running({ dnsName: `${name}.` });
    localApi.serveForeground({ host: name, targetPort: gateway.port });
    const run = await agentCheck({ CLAWFLEET_TAILNET_URL: undefined });
    expectTunnelFault(run, "magicdns_unresolved");
    expect(run.problem!.evidence).toMatchObject({ dnsName: name, tailnetUrl: `https://${name}` });
    expect(run.problem!.action).toContain(name);
  });

  it("reports serve_not_configured when gateway.tailscale.mode is serve but no Serve route maps the gateway", async () => {
    localApi.serveMissing();
    // The CLI's config says serve; the running gateway was started without it
    // (with Tailscale mode on and no tailscale binary it would not start).
    const configPath = join(dir, "serve-mode.json");
    writeFileSync(configPath, JSON.stringify({ gateway: { bind: "loopback", tailscale: { mode: "serve" } } }), { mode: 0o600 });
    const run = await agentCheck({ CLAWFLEET_TAILNET_URL: undefined, OPENCLAW_CONFIG_PATH: configPath });
    expect(run.tunnel.filter((f) => f.code).map((f) => f.code)).toEqual(["serve_not_configured"]);
    expect(run.problem!.evidence).toMatchObject({ tailscaleMode: "serve", port: String(gateway.port) });
    expect(run.problem!.action).toContain(`tailscale serve --bg ${gateway.port}`);
    expect(run.session).toMatchObject({ status: "ok" });
    expect([run.verdict, run.exitCode]).toEqual(["fail", 2]);
  });

  it("skips the tunnel layer when Tailscale is not installed and the gateway is bound to loopback", async () => {
    // A developer machine may have the tailscale CLI on PATH: keep it out.
    const path = (process.env.PATH ?? "").split(delimiter).filter((d) => d && !existsSync(join(d, "tailscale"))).join(delimiter);
    const run = await agentCheck({ CLAWFLEET_TAILSCALE_SOCKET: join(dir, "no-such.sock"), CLAWFLEET_TAILNET_URL: undefined, PATH: path });
    expect(run.tunnel).toHaveLength(1);
    expect(run.tunnel[0]).toMatchObject({ status: "skip", code: null });
    expect(run.tunnel[0]!.summary).toMatch(/not installed/);
    expect([run.verdict, run.exitCode]).toEqual(["ok", 0]);
  });

  it("never printed the token in any scenario, only its fingerprint", () => {
    const all = outputs.join("\n");
    expect(outputs.length).toBeGreaterThan(10);
    expect(all).not.toContain(TOKEN);
    expect(all).toMatch(/sha256:[0-9a-f]{12}/);
  });
});
