// End to end, all real on loopback: OpenClaw gateway → `clawfleet agent run`
// (and simulated agents for hosts this box cannot be) → collector → Prometheus
// with the generated rules → Alertmanager with the generated routes and
// inhibitions → webhook receivers. Each case breaks something, waits for the
// page (or its absence) and prints how long it took from fault to webhook.
//
// The cases share one world and run in order: each starts from the state the
// previous one left (that is what an operator lives through).
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problem } from "../../shared/finding.ts";
import { healthyFindings, startSimulatedAgent, type SimulatedAgent } from "../helpers/agent-simulator.ts";
import { createGateway, type TestGateway } from "../helpers/openclaw-gateway.ts";
import { freePort } from "../helpers/ports.ts";
import { runClawfleet, spawnClawfleet, stopAll, type Spawned } from "../helpers/processes.ts";
import { describe as describeNotifications } from "../helpers/webhook-receiver.ts";
import { startServeProxy } from "../fakes/serve-proxy.ts";
import { startFakeLocalApi } from "../fakes/tailscale-localapi.ts";
import { createTestPki } from "../helpers/tls.ts";
import { newlyFiring, sleep, startAlertingWorld, waitForAlert, waitForNoActiveAlerts, waitForQuery, waitForQuiet, type AlertingWorld } from "./alerting-world.ts";
import { clientEnvFromDotenv, restartGatewayWithToken, setClientToken } from "./gateway-control.ts";
import { E2E_EVALUATION_SECONDS, E2E_FOR_SECONDS, E2E_SCRAPE_SECONDS } from "./e2e-timing.ts";

const TOKEN = "cf-e2e-gateway-token-5c1d7e9a3b2f4068";
const ROTATED = "cf-e2e-rotated-token-8e2a4c6f1d3b5907";
/** A fake provider key, so a node's provider layer is healthy (OpenAI is the default model's provider). */
const PROVIDER_KEY = "sk-test-clawfleet-e2e-not-a-real-key-77c1";
const PAGE_RECEIVERS = ["fleet-oncall", "gateway-owners", "network-owners"];
/** Generous bound for one fault to reach the webhook (report + scrape + eval + for: + group_wait is ~5-9 s). */
const DELIVERY_MS = 30_000;
/** After the expected notification, how long to keep listening for unexpected ones (two group intervals). */
const SETTLE_MS = 4_000;

const timings: { case: string; ms: number }[] = [];

function setProviderKey(stateDir: string): void {
  appendFileSync(join(stateDir, ".env"), `OPENAI_API_KEY=${PROVIDER_KEY}\n`);
}

function record(name: string, faultAtMs: number, deliveredAtMs: number): void {
  timings.push({ case: name, ms: deliveredAtMs - faultAtMs });
}

describe("alerts end to end: real gateway, agents, collector, Prometheus, Alertmanager", () => {
  let world: AlertingWorld;
  let gateway: TestGateway;
  let laptop: SimulatedAgent;
  let gatewayStarted: Promise<TestGateway> | undefined;
  const agents = new Map<string, Spawned>();

  const startAgent = (nodeId: string, env: NodeJS.ProcessEnv) => {
    const agent = spawnClawfleet(["agent", "run", "--insecure", "--collector", world.collector.grpcAddress, "--node-id", nodeId, "--interval", "1s", "--state-dir", join(world.dir, nodeId)], env);
    agents.set(nodeId, agent);
    return agent;
  };

  beforeAll(async () => {
    // The gateway takes longest to start (10-40 s); the silent-node cases (3) do not need it.
    gatewayStarted = createGateway({ token: TOKEN }).then((g) => (gateway = g));
    world = await startAlertingWorld();
    // mini-02: a real agent on a node that must not sleep, whose gateway is down (a state dir with no
    // gateway, a port nothing listens on) and whose .env is world-readable (a drift ticket).
    const home = mkdtempSync(join(world.dir, "mini-02-home-"));
    const stateDir = join(home, ".openclaw");
    mkdirSync(stateDir, { mode: 0o700 });
    setClientToken(stateDir, TOKEN);
    setProviderKey(stateDir);
    chmodSync(join(stateDir, ".env"), 0o644);
    startAgent("mini-02", { HOME: home, OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_PORT: String(await freePort()) });
    // laptop-01: a Mac that may sleep and says so (sleep_enabled), simulated.
    laptop = startSimulatedAgent({ collector: world.collector.grpcAddress, nodeId: "laptop-01", maySleep: true, findings: [...healthyFindings(), problem("power", "sleep_enabled", "pmset: sleep 10")] });
    await laptop.connected;
    // The world is settled once the standing tickets have been delivered.
    await Promise.all([
      waitForAlert(world.webhook, { alertname: "ClawfleetDrift", node: "mini-02", status: "firing" }, 0, DELIVERY_MS),
      waitForAlert(world.webhook, { alertname: "ClawfleetSleepEnabled", node: "laptop-01", status: "firing" }, 0, DELIVERY_MS),
    ]);
    await waitForQuiet(world.webhook, 3000, 30_000);
  }, 120_000);

  afterAll(async () => {
    // A dead collector or Prometheus explains every later failure: say so first.
    for (const [name, server] of [["collector", world?.collector.process], ["prometheus", world?.prometheus.process], ["alertmanager", world?.alertmanager.process]] as const) {
      if (server && server.child.exitCode !== null) console.error(`${name} exited early (${server.child.exitCode}):\n${server.stderr.slice(-3000)}`);
    }
    laptop?.stop();
    await gatewayStarted?.catch(() => undefined);
    await stopAll();
    await gateway?.cleanup();
    await world?.stop();
    if (timings.length > 0) {
      console.log(`fault → webhook (scrape ${E2E_SCRAPE_SECONDS}s, eval ${E2E_EVALUATION_SECONDS}s, for: and group_wait shortened: test/e2e/e2e-timing.ts)\n` + timings.map((t) => `  ${t.case.padEnd(58)} ${(t.ms / 1000).toFixed(1)} s`).join("\n"));
    }
  });

  it("standing tickets route by layer, and nothing pages: world-readable secrets are a drift ticket, a sleep-enabled laptop a power ticket", () => {
    const drift = world.webhook.notifications.find((n) => n.alerts.some((a) => a.labels.alertname === "ClawfleetDrift" && a.labels.node === "mini-02"))!;
    expect(drift.receiver).toBe("tickets");
    expect(drift.alerts.find((a) => a.labels.node === "mini-02")!.labels).toMatchObject({ layer: "drift", code: "credentials_exposed", severity: "ticket" });
    const sleepEnabled = world.webhook.notifications.find((n) => n.alerts.some((a) => a.labels.alertname === "ClawfleetSleepEnabled"))!;
    expect(sleepEnabled.receiver).toBe("tickets");
    expect(sleepEnabled.alerts[0]!.labels).toMatchObject({ node: "laptop-01", layer: "power", code: "sleep_enabled", severity: "ticket" });
    // mini-02's gateway is down too, but not yet for GatewayDown's for:.
    expect(world.webhook.notifications.filter((n) => PAGE_RECEIVERS.includes(n.receiver)), describeNotifications(world.webhook.notifications)).toEqual([]);
  });

  it("(3a) a node that may sleep going silent is an asleep ticket, no page, and its other alerts are inhibited", async () => {
    const faultAt = Date.now();
    laptop.stop();
    const { notification, alert } = await waitForAlert(world.webhook, { alertname: "ClawfleetNodeAsleep", node: "laptop-01", status: "firing" }, faultAt, DELIVERY_MS);
    record("(3a) asleep: may-sleep node went silent (ticket)", faultAt, notification.receivedAtMs);
    expect(notification.receiver).toBe("tickets");
    expect(alert.labels).toMatchObject({ layer: "power", code: "silent_asleep", severity: "ticket" });
    await sleep(SETTLE_MS);
    const paged = world.webhook.notifications.filter((n) => n.receivedAtMs >= faultAt && PAGE_RECEIVERS.includes(n.receiver) && n.alerts.some((a) => a.labels.node === "laptop-01"));
    expect(paged, describeNotifications(paged)).toEqual([]);
    const sleepEnabled = (await world.alertmanager.alerts()).find((a) => a.labels.alertname === "ClawfleetSleepEnabled" && a.labels.node === "laptop-01");
    expect(sleepEnabled?.status).toMatchObject({ state: "suppressed", inhibitedBy: [expect.any(String)] });
  }, 60_000);

  it("(3b) a node that must not sleep going silent pages as unreachable, and its other alerts are inhibited", async () => {
    const faultAt = Date.now();
    await agents.get("mini-02")!.stop();
    const { notification, alert } = await waitForAlert(world.webhook, { alertname: "ClawfleetNodeUnreachable", node: "mini-02", status: "firing" }, faultAt, DELIVERY_MS);
    record("(3b) unreachable: must-not-sleep node went silent (page)", faultAt, notification.receivedAtMs);
    expect(notification.receiver).toBe("fleet-oncall");
    expect(alert.labels).toMatchObject({ layer: "fleet", code: "silent_unreachable", severity: "page" });
    expect(alert.annotations.action).toContain("tailscale ping mini-02");
    const drift = (await world.alertmanager.alerts()).find((a) => a.labels.alertname === "ClawfleetDrift" && a.labels.node === "mini-02");
    expect(drift?.status).toMatchObject({ state: "suppressed", inhibitedBy: [expect.any(String)] });
    await sleep(SETTLE_MS);
    // Only the unreachable page went out about mini-02 since it fell silent. (Its gateway-down alert,
    // pending all along, fires later into the same inhibition.)
    const aboutNode = world.webhook.notifications.filter((n) => n.receivedAtMs >= faultAt).flatMap((n) => n.alerts).filter((a) => a.labels.node === "mini-02");
    expect(new Set(aboutNode.map((a) => `${a.labels.alertname} ${a.status}`))).toEqual(new Set(["ClawfleetNodeUnreachable firing"]));
  }, 60_000);

  it("(1) rotating the gateway token while the agent keeps the old one pages exactly the session alert, with layer, node and action", async () => {
    // mini-01: a healthy node on the real gateway; its client token lives in the state dir's .env.
    await gatewayStarted;
    setClientToken(gateway.stateDir, TOKEN);
    startAgent("mini-01", clientEnvFromDotenv(gateway));
    await waitForQuery(world.prometheus, 'clawfleet_layer_status{node="mini-01", layer=~"gateway|session"} == 0', 2, 60_000);

    const faultAt = await restartGatewayWithToken(gateway, ROTATED);
    const { notification, alert } = await waitForAlert(world.webhook, { alertname: "ClawfleetSessionAuthFailing", node: "mini-01", status: "firing" }, faultAt, DELIVERY_MS);
    record("(1) session: token rotated on the gateway only", faultAt, notification.receivedAtMs);
    expect(notification.receiver).toBe("gateway-owners");
    expect(alert.labels).toMatchObject({ layer: "session", code: "token_mismatch", severity: "page", node: "mini-01" });
    expect(alert.annotations.action).toMatch(/^The token clients use \(FINGERPRINT, from SOURCE\) is not the one the gateway loaded/);
    expect(alert.annotations.summary).toBe("mini-01: Gateway rejects the client's token");
    await sleep(SETTLE_MS);
    // Exactly one page: the session alert. The gateway restart is shorter than GatewayDown's for:,
    // loopback works so nothing is a tunnel problem. A ticket may follow (drift: token sources now disagree).
    const since = world.webhook.notifications.filter((n) => n.receivedAtMs >= faultAt);
    const pages = since.filter((n) => PAGE_RECEIVERS.includes(n.receiver));
    expect(newlyFiring({ notifications: pages }, faultAt), describeNotifications(since)).toEqual(["ClawfleetSessionAuthFailing{node=mini-01,code=token_mismatch}"]);
    for (const n of since.filter((n) => !PAGE_RECEIVERS.includes(n.receiver))) {
      expect(n.receiver).toBe("tickets");
      for (const a of n.alerts) expect(a.labels.severity).toBe("ticket");
    }
    expect(since.flatMap((n) => n.alerts).some((a) => a.labels.layer === "tunnel" || a.labels.alertname === "ClawfleetGatewayDown"), describeNotifications(since)).toBe(false);
  }, 120_000);

  it("(4a) repair of the session: the gateway's token copied to the client resolves the session alert", async () => {
    // The taxonomy's first action for token_mismatch: copy the gateway's token into the client config.
    const fixedAt = Date.now();
    setClientToken(gateway.stateDir, ROTATED);
    const { notification } = await waitForAlert(world.webhook, { alertname: "ClawfleetSessionAuthFailing", node: "mini-01", status: "resolved" }, fixedAt, DELIVERY_MS).catch(async (error: Error) => {
      // Say what the agent reports now: the alert only mirrors it.
      const node = await runClawfleet(["collector", "query", "node", "mini-01", "--insecure", "--collector", world.collector.grpcAddress, "--json"]);
      throw new Error(`${error.message}\nmini-01 reports now:\n${node.stdout.slice(0, 3000)}`);
    });
    record("(4a) resolved: session (client given the gateway's token)", fixedAt, notification.receivedAtMs);
    expect(notification.receiver).toBe("gateway-owners");
  }, 60_000);

  it("(4b) repair of silent nodes: the laptop awake with sleep disabled and the node back resolve every alert about them", async () => {
    const wokeAt = Date.now();
    laptop = startSimulatedAgent({ collector: world.collector.grpcAddress, nodeId: "laptop-01", maySleep: false, findings: healthyFindings() });
    const asleep = waitForAlert(world.webhook, { alertname: "ClawfleetNodeAsleep", node: "laptop-01", status: "resolved" }, wokeAt, DELIVERY_MS).then(({ notification }) =>
      record("(4b) resolved: asleep (laptop woke, sleep disabled)", wokeAt, notification.receivedAtMs),
    );
    const backAt = Date.now();
    // Its gateway is back: the agent now finds the fleet's gateway (state dir, port) and the client token beside it.
    startAgent("mini-02", clientEnvFromDotenv(gateway));
    const unreachable = waitForAlert(world.webhook, { alertname: "ClawfleetNodeUnreachable", node: "mini-02", status: "resolved" }, backAt, DELIVERY_MS).then(({ notification }) =>
      record("(4b) resolved: unreachable (agent back, gateway found)", backAt, notification.receivedAtMs),
    );
    await Promise.all([asleep, unreachable]);
    // The alerts that were inhibited meanwhile (SleepEnabled, Drift, GatewayDown) resolve too. Alertmanager
    // drops the notification of an alert resolved while muted, so this reads its state instead.
    await waitForNoActiveAlerts(world.alertmanager, ["laptop-01", "mini-02"], DELIVERY_MS);
  }, 60_000);

  it("a fleet-wide Tailscale outage pages the network owners once, for the cause, with every node in it", async () => {
    const nodes = ["edge-01", "edge-02", "edge-03"];
    const sims = nodes.map((nodeId) => startSimulatedAgent({ collector: world.collector.grpcAddress, nodeId, maySleep: false, findings: healthyFindings() }));
    try {
      await Promise.all(sims.map((s) => s.connected));
      await sleep(2000); // scraped healthy first
      const faultAt = Date.now();
      const outage = () => [...healthyFindings(), problem("tunnel", "tailscale_needs_login", "tailscale: NeedsLogin"), problem("tunnel", "tailnet_unreachable", "https://edge.example.ts.net does not answer")];
      for (const sim of sims) sim.report(outage());
      const first = await world.webhook.waitFor((n) => n.receivedAtMs >= faultAt && n.receiver === "network-owners", DELIVERY_MS, "a network-owners page");
      record("tunnel: fleet-wide Tailscale logout, 3 nodes (one page)", faultAt, first.receivedAtMs);
      await sleep(SETTLE_MS);
      const pages = world.webhook.notifications.filter((n) => n.receivedAtMs >= faultAt && n.receiver === "network-owners");
      expect(pages, describeNotifications(pages)).toHaveLength(1);
      expect(pages[0]!.groupLabels).toEqual({ layer: "tunnel" });
      expect(pages[0]!.alerts.map((a) => `${a.labels.node} ${a.labels.code}`).sort()).toEqual(nodes.map((n) => `${n} tailscale_needs_login`));
      // Loopback is fine on these nodes: nobody is told the token is wrong.
      expect(newlyFiring(world.webhook, faultAt).filter((k) => !k.startsWith("ClawfleetTunnelDown"))).toEqual([]);
    } finally {
      for (const sim of sims) sim.stop();
    }
  }, 60_000);

  it("most of the fleet going silent at once is one fleet page, and the per-node unreachable pages are held back", async () => {
    const rack = Array.from({ length: 8 }, (_, i) => `rack-${String(i + 1).padStart(2, "0")}`);
    const sims = rack.map((nodeId) => startSimulatedAgent({ collector: world.collector.grpcAddress, nodeId, maySleep: false, findings: healthyFindings() }));
    try {
      await Promise.all(sims.map((s) => s.connected));
      await waitForQuery(world.prometheus, 'clawfleet_node_state{node=~"rack-.*", state="healthy"} == 1', rack.length, DELIVERY_MS);
      const faultAt = Date.now();
      for (const sim of sims) sim.stop(); // the site's switch dies: every rack node drops at once
      const { notification: fleetPage, alert } = await waitForAlert(world.webhook, { alertname: "ClawfleetFleetMostlyUnreachable", status: "firing" }, faultAt, DELIVERY_MS);
      record("fleet: 8 of the nodes silent at once (one page)", faultAt, fleetPage.receivedAtMs);
      expect(fleetPage.receiver).toBe("fleet-oncall");
      expect(alert.labels).toMatchObject({ severity: "page", layer: "collector" });
      // Each rack node's own unreachable alert fires in Prometheus, yet reaches nobody while the fleet page fires.
      await waitForQuery(world.prometheus, 'ALERTS{alertname="ClawfleetNodeUnreachable", alertstate="firing", node=~"rack-.*"}', rack.length, DELIVERY_MS);
      await sleep(SETTLE_MS);
      const perNode = world.webhook.notifications.filter((n) => n.receivedAtMs >= faultAt).flatMap((n) => n.alerts).filter((a) => a.labels.node?.startsWith("rack-"));
      expect(perNode.map((a) => `${a.labels.alertname}{node=${a.labels.node}} ${a.status}`)).toEqual([]);
      const held = (await world.alertmanager.alerts()).filter((a) => a.labels.alertname === "ClawfleetNodeUnreachable" && a.labels.node?.startsWith("rack-"));
      expect(held.map((a) => a.status.state)).toEqual(rack.map(() => "suppressed"));
    } finally {
      for (const sim of sims) sim.stop();
    }
  }, 90_000);

  // Scenario 2 runs last: it needs the tunnel check's fakes (a LocalAPI-shaped
  // tailscaled and a Serve-shaped TLS proxy on 127.0.0.2, see test/fakes/) and
  // a fresh real agent whose tailnet path goes through them.
  it("(2) a proxy on the tailnet path stripping Authorization pages the network owners for the tunnel, never the session", async () => {
    const pki = createTestPki();
    const names = ["DNS:localhost", "IP:127.0.0.1", "IP:127.0.0.2"];
    const certs = { trusted: pki.issue("serve", names), untrusted: pki.selfSigned("rogue", names), wrongName: pki.issue("elsewhere", ["DNS:elsewhere.example", "IP:192.0.2.10"]) };
    const [localApi, proxy] = await Promise.all([startFakeLocalApi(), startServeProxy({ host: "127.0.0.2", upstreamPort: gateway.port, certs })]);
    try {
      localApi.running({ dnsName: "localhost." });
      localApi.serveForeground({ host: "localhost", httpsPort: proxy.port, targetPort: gateway.port });
      startAgent("mini-03", { ...clientEnvFromDotenv(gateway), CLAWFLEET_TAILSCALE_SOCKET: localApi.socketPath, CLAWFLEET_TAILNET_URL: proxy.url, NODE_EXTRA_CA_CERTS: pki.caPath });
      // Healthy first, over loopback and over the tailnet path alike.
      await waitForQuery(world.prometheus, 'clawfleet_layer_status{node="mini-03", layer=~"session|tunnel"} == 0', 2, DELIVERY_MS);

      const faultAt = Date.now();
      proxy.setVariant("strip-authorization");
      const { notification, alert } = await waitForAlert(world.webhook, { alertname: "ClawfleetTunnelDown", node: "mini-03", status: "firing" }, faultAt, DELIVERY_MS);
      record("(2) tunnel: proxy strips Authorization (remote 401)", faultAt, notification.receivedAtMs);
      expect(notification.receiver).toBe("network-owners");
      expect(alert.labels).toMatchObject({ layer: "tunnel", code: "headers_stripped", severity: "page" });
      expect(alert.annotations.action).toContain("a proxy on the path drops `Authorization`");
      await sleep(SETTLE_MS);
      const aboutNode = newlyFiring(world.webhook, faultAt).filter((key) => key.includes("node=mini-03"));
      expect(aboutNode, describeNotifications(world.webhook.notifications)).toEqual(["ClawfleetTunnelDown{node=mini-03,code=headers_stripped}"]);

      const fixedAt = Date.now();
      proxy.setVariant("faithful");
      const resolved = await waitForAlert(world.webhook, { alertname: "ClawfleetTunnelDown", node: "mini-03", status: "resolved" }, fixedAt, DELIVERY_MS);
      record("(2) resolved: tunnel (proxy forwards Authorization again)", fixedAt, resolved.notification.receivedAtMs);
    } finally {
      await agents.get("mini-03")?.stop();
      await Promise.all([proxy.stop(), localApi.close()]);
      pki.cleanup();
    }
  }, 90_000);

  // The collector dies last: without its own alert a dead collector looks like a quiet fleet.
  it("the collector dying pages the fleet on-call as ClawfleetCollectorDown, and no collector alert fired before", async () => {
    const before = world.webhook.notifications.flatMap((n) => n.alerts).filter((a) => a.labels.layer === "collector" && a.labels.alertname !== "ClawfleetFleetMostlyUnreachable");
    expect(before.map((a) => `${a.labels.alertname} ${a.status}`), "a collector alert fired while the collector was fine").toEqual([]);
    const faultAt = Date.now();
    await world.collector.process.stop("SIGKILL");
    const { notification: down, alert } = await waitForAlert(world.webhook, { alertname: "ClawfleetCollectorDown", status: "firing" }, faultAt, DELIVERY_MS);
    record("collector: process killed (page)", faultAt, down.receivedAtMs);
    expect(down.receiver).toBe("fleet-oncall");
    expect(alert.labels).toMatchObject({ severity: "page", layer: "collector", instance: world.collector.httpAddress });
  }, 60_000);
});
