// The collector as the tunnel's peer (--probe-tailnet): it GETs each node's
// tailnet /healthz itself (TLS, no token) and, while the agent says loopback is
// fine, reports a broken path as a tunnel problem, never a session one.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeLocalApi, type FakeLocalApi } from "../fakes/tailscale-localapi.ts";
import { startServeProxy, type ServeProxy } from "../fakes/serve-proxy.ts";
import { series, waitForMetrics } from "../helpers/metrics.ts";
import { createGateway, type TestGateway } from "../helpers/openclaw-gateway.ts";
import { freePort } from "../helpers/ports.ts";
import { runClawfleet, spawnClawfleet, stopAll } from "../helpers/processes.ts";
import { createTestPki, type TestPki } from "../helpers/tls.ts";

const TOKEN = "cf-peer-probe-token-6a1e9c3b7d5f2e84";

describe("collector probes the tailnet path as a peer", () => {
  let gateway: TestGateway;
  let pki: TestPki;
  let localApi: FakeLocalApi;
  let proxy: ServeProxy;
  let dir: string;
  let grpc: string;
  let http: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-peer-"));
    pki = createTestPki();
    const names = ["DNS:localhost", "IP:127.0.0.1", "IP:127.0.0.2"];
    const certs = { trusted: pki.issue("serve", names), untrusted: pki.selfSigned("rogue", names), wrongName: pki.issue("elsewhere", ["DNS:elsewhere.example"]) };
    [gateway, localApi] = await Promise.all([createGateway({ token: TOKEN }), startFakeLocalApi()]);
    proxy = await startServeProxy({ host: "127.0.0.2", upstreamPort: gateway.port, certs });
    localApi.running({ dnsName: "localhost." });
    localApi.serveForeground({ host: "localhost", httpsPort: proxy.port, targetPort: gateway.port });
    grpc = `127.0.0.1:${await freePort()}`;
    http = `127.0.0.1:${await freePort()}`;
    const collector = spawnClawfleet(
      ["collector", "serve", "--insecure", "--grpc-listen", grpc, "--http-listen", http, "--db", join(dir, "c.db"), "--probe-tailnet", "--probe-interval", "1s", "--probe-hosts", "^127\\."],
      { NODE_EXTRA_CA_CERTS: pki.caPath },
    );
    await collector.waitFor(/collector ready/);
    spawnClawfleet(["agent", "run", "--insecure", "--collector", grpc, "--node-id", "tailnet-node", "--interval", "1s", "--state-dir", join(dir, "agent")], {
      ...gateway.clientEnv(),
      CLAWFLEET_TAILSCALE_SOCKET: localApi.socketPath,
      CLAWFLEET_TAILNET_URL: proxy.url,
      NODE_EXTRA_CA_CERTS: pki.caPath,
    });
  });
  afterAll(async () => {
    await Promise.all([proxy?.stop(), localApi?.close()]);
    await stopAll();
    await gateway?.cleanup();
    pki?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("probes the reported tailnet URL and finds nothing wrong on a healthy path", async () => {
    const { samples } = await waitForMetrics(http, (s) => s.has(series("clawfleet_probe_duration_seconds", { node: "tailnet-node", path: "tailnet" })));
    expect(samples.get(series("clawfleet_layer_status", { node: "tailnet-node", layer: "tunnel" }))).toBe(0);
    expect([...samples.keys()].filter((k) => k.startsWith("clawfleet_finding{node=\"tailnet-node\",layer=\"tunnel\""))).toEqual([]);
    // Only /healthz, never a token, reached the gateway from the collector's probes.
    expect(proxy.forwarded.filter((r) => r.path === "/healthz").length).toBeGreaterThan(0);
  });

  it("reports tailnet_unreachable from the collector when the path breaks while loopback stays fine", async () => {
    await proxy.stop();
    try {
      await waitForMetrics(http, (s) => s.get(series("clawfleet_finding", { node: "tailnet-node", layer: "tunnel", code: "tailnet_unreachable" })) === 1);
      type NodeDetail = { findings: { layer: string; code: string; summary: string }[]; all_findings: { layer: string; status: string }[] };
      // The agent notices at its next run, the collector at its next probe (1 s), in either order:
      // wait for both, the peer's view and the node failing on the agent's report.
      let result = await runClawfleet(["collector", "query", "node", "tailnet-node", "--insecure", "--collector", grpc, "--json"]);
      for (let i = 0; i < 40 && !(result.stdout.includes("The collector cannot reach") && result.code === 1); i++) {
        await new Promise((r) => setTimeout(r, 250));
        result = await runClawfleet(["collector", "query", "node", "tailnet-node", "--insecure", "--collector", grpc, "--json"]);
      }
      const node = JSON.parse(result.stdout) as NodeDetail;
      expect(node.all_findings.find((f) => f.layer === "session")!.status).toBe("ok");
      expect(node.findings.map((f) => f.layer)).not.toContain("session");
      // The peer's own view, next to the agent's: the collector could not reach the URL either.
      expect(node.findings.filter((f) => f.code === "tailnet_unreachable").map((f) => f.summary)).toContainEqual(expect.stringMatching(/^The collector cannot reach https:\/\/127\.0\.0\.2:\d+\/healthz/));
      expect(result.code).toBe(1);
    } finally {
      await proxy.start();
    }
  });
});
