// The world the fleet-page tests look at: a real collector process, one real
// `clawfleet agent run` with no gateway (it reports gateway not_running: a
// failing node), and simulated agents speaking the real protocol for what this
// box cannot be: a healthy Mac, a Mac whose Tailscale is logged out, a laptop
// that went to sleep, and a hostile agent whose strings carry markup.
// Before the collector starts, fleet-history.ts writes a day of past history
// (a nightly sleep, an hourly flap, an hour off the network, a token rotation)
// for the history strips to show.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { passed, problem, type Finding } from "../../shared/finding.ts";
import { healthyFindings, startSimulatedAgent, type SimulatedAgent } from "../helpers/agent-simulator.ts";
import { startLoad, type LoadRun } from "../helpers/load-generator.ts";
import { startCollectorProcess, type TestCollector } from "../helpers/collector.ts";
import { series, waitForMetrics } from "../helpers/metrics.ts";
import { freePort } from "../helpers/ports.ts";
import { spawnClawfleet, stopAll } from "../helpers/processes.ts";
import { FLAPPING_CREDENTIAL, FLAPPING_NODE, FLAPPING_TOKEN, seedHistory } from "./fleet-history.ts";

/** Sets a global if it ever runs; the tests assert it never does. */
export const SCRIPT_PAYLOAD = "<script>window.__clawfleetPwned = 'script'</script>";
export const IMG_PAYLOAD = `<img src=x onerror="window.__clawfleetPwned = 'img'">`;
/** Breaks out of a quoted attribute if an attribute value were not escaped. */
export const ATTR_PAYLOAD = `" autofocus onfocus="window.__clawfleetPwned='attr'`;
export const HOSTILE = `${SCRIPT_PAYLOAD}${IMG_PAYLOAD}${ATTR_PAYLOAD}`;

export const REAL_NODE = "mini-gw-down";
export const HOSTILE_NODE = "evil-01";
export const TUNNEL_NODE = "mini-tunnel";
export const SLEEPY_NODE = "laptop-01";
export const HEALTHY_NODES = Array.from({ length: 10 }, (_, i) => `mini-${String(i + 1).padStart(2, "0")}`);
/** A load-generator node: it reports a gateway-token credential (as a keyed fingerprint of the secret `token-0`). */
export const CREDENTIAL_NODE = "ci-runner-00000";
export const CREDENTIAL_SECRET = "token-0";

export interface FleetWorld {
  collector: TestCollector;
  pageUrl: string;
  /** The "now" the seeded day of history (fleet-history.ts) counts back from. */
  historyNowMs: number;
  /** The simulated agents by node id, to change what they report mid-test. */
  agents: Map<string, SimulatedAgent>;
  stop(): Promise<void>;
}

function hostileFindings(): Finding[] {
  // A warning (not a failure): the hostile node must not sort first, so the
  // "failing first" assertion is about order, not about which node is loudest.
  const f = problem("drift", "multiple_binaries", `Two openclaw installs ${HOSTILE}`, { paths: HOSTILE, servicePath: "/opt/homebrew/bin/openclaw", gatewayToken: "plain-secret-value-123" });
  return [...healthyFindings(), { ...f, action: `Remove one ${HOSTILE}` }];
}

function tunnelFindings(): Finding[] {
  return [...healthyFindings(), passed("tunnel", "tunnel", "Tailscale runs."), problem("tunnel", "tailscale_needs_login", "Tailscale is logged out (NeedsLogin).", {})];
}

export async function startFleetWorld(): Promise<FleetWorld> {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-page-"));
  const historyNowMs = Date.now();
  seedHistory(join(dir, "collector.db"), { sleepy: SLEEPY_NODE, tunnel: TUNNEL_NODE, healthy: HEALTHY_NODES }, historyNowMs);
  const collector = await startCollectorProcess(join(dir, "collector.db"));
  const simulators: SimulatedAgent[] = [];
  let load: LoadRun | undefined;
  try {
    // The real agent, on a host with no gateway at all.
    const home = join(dir, "home");
    spawnClawfleet(["agent", "run", "--insecure", "--collector", collector.grpcAddress, "--node-id", REAL_NODE, "--interval", "2s", "--state-dir", join(dir, "agent")], {
      HOME: home,
      OPENCLAW_STATE_DIR: join(home, ".openclaw"),
      OPENCLAW_GATEWAY_PORT: String(await freePort()),
    });
    const sim = (nodeId: string, findings: Finding[], extra: { maySleep?: boolean; platform?: string } = {}) => {
      // The flapping node reports the gateway token it rotated to in its seeded history.
      const credentials = nodeId === FLAPPING_NODE ? [{ ...FLAPPING_CREDENTIAL, secret: FLAPPING_TOKEN.current }] : undefined;
      const agent = startSimulatedAgent({ collector: collector.grpcAddress, nodeId, maySleep: extra.maySleep ?? false, findings, platform: extra.platform, intervalMs: 2000, credentials });
      simulators.push(agent);
      return agent;
    };
    // The simulator sets hostname to `<id>.local`; the hello's platform field is the identity string it lets us choose.
    sim(HOSTILE_NODE, hostileFindings(), { platform: `darwin ${HOSTILE}` });
    sim(TUNNEL_NODE, tunnelFindings());
    for (const id of HEALTHY_NODES) sim(id, healthyFindings());
    const sleepy = sim(SLEEPY_NODE, healthyFindings(), { maySleep: true });
    // Slow enough that its periodic token_mismatch (every 17th report) does not come up during the tests.
    load = startLoad({ collector: collector.grpcAddress, nodes: 1, ratePerNode: 0.2, nodePrefix: "ci-runner" });
    await Promise.all([...simulators.map((s) => s.connected), load.welcomed]);
    await waitForMetrics(
      collector.httpAddress,
      (s) =>
        s.get(series("clawfleet_node_state", { node: REAL_NODE, state: "failing" })) === 1 &&
        s.get(series("clawfleet_node_state", { node: SLEEPY_NODE, state: "healthy" })) === 1 &&
        (s.get(series("clawfleet_last_report_timestamp_seconds", { node: CREDENTIAL_NODE })) ?? 0) > 0,
      30_000,
    );
    // The laptop drops its stream without a goodbye, as a Mac going to sleep does.
    sleepy.stop();
    await waitForMetrics(collector.httpAddress, (s) => s.get(series("clawfleet_node_state", { node: SLEEPY_NODE, state: "asleep" })) === 1, 30_000);
  } catch (error) {
    load?.stop();
    simulators.forEach((s) => s.stop());
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    collector,
    pageUrl: `http://${collector.httpAddress}/`,
    historyNowMs,
    agents: new Map(simulators.map((s) => [s.nodeId, s])),
    async stop() {
      load?.stop();
      simulators.forEach((s) => s.stop());
      await stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
