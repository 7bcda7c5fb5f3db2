// The /metrics benchmark compares our renderer with prom-client's labelled
// gauges: that is only fair while both render the same samples. On one fleet
// that exercises every family (a simulated node, a rotation, a tailnet probe, a
// silent node, a node without a report), both expositions parse to the same map.
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { renderFleetMetrics } from "../../collector/metrics/fleet-exposition.ts";
import { registerFleetMetrics } from "../../bench/prom-client-fleet-metrics.ts";
import { simulatedFleet, simulatedReport } from "../../bench/fleet-fixture.ts";
import { parseExposition } from "../helpers/metrics.ts";

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);

function fleetWithEveryFamily() {
  const fleet = simulatedFleet(30);
  // A rotation: mini-00000's gateway token changes between two reports.
  const next = simulatedReport("mini-00000", 2n, 0, NOW);
  fleet.record({ ...next, credentials: [{ ...next.credentials[0]!, fingerprint: "hmac:rotated000000000" }] });
  // A node `clawfleet sim` plays, with a report.
  fleet.connect({ nodeId: "sim-00000", hostname: "sim-00000", platform: "darwin", agentVersion: "sim", openclawVersion: "2026.9.6", simulated: true }, 100, "ipv4:127.0.0.1:2", NOW, NOW);
  fleet.record(simulatedReport("sim-00000", 1n, 4, NOW));
  // The collector's own tailnet probe of a connected node, failed (a collector finding too).
  fleet.setPeerProbe("mini-00001", { url: "https://mini-00001.example.ts.net/healthz", atMs: NOW, durationMs: 250, ok: false, failure: "unreachable", detail: "connect refused" });
  // A node whose stream closed (silent), and one connected without a report yet.
  fleet.disconnect("mini-00002", 3, NOW);
  fleet.connect({ nodeId: "fresh-00000", hostname: "fresh-00000", platform: "linux", agentVersion: "0.1.0", openclawVersion: "" }, 101, "ipv4:127.0.0.1:3", NOW, NOW);
  return fleet;
}

const families = (text: string) => text.split("\n").filter((l) => l.startsWith("# TYPE ")).sort();

describe("prom-client fleet metrics (the /metrics benchmark's peer)", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => vi.useRealTimers());

  it("renders the same samples as the collector's renderer, in every family", async () => {
    const fleet = fleetWithEveryFamily();
    const ours = renderFleetMetrics(fleet, NOW);
    const registry = new Registry();
    registerFleetMetrics(registry, fleet);
    const peer = await registry.metrics();

    expect(families(peer)).toEqual(families(ours));
    const oursSamples = parseExposition(ours);
    expect(Object.fromEntries([...parseExposition(peer)].sort())).toEqual(Object.fromEntries([...oursSamples].sort()));
    // The fleet exercises every family, so a family one renderer leaves out cannot pass unnoticed.
    for (const line of families(ours)) {
      const name = line.split(" ")[2]!;
      expect([...oursSamples.keys()].some((k) => k.startsWith(`${name}{`)), `${name} has samples`).toBe(true);
    }
    expect(oursSamples.get('clawfleet_credential_rotations_total{node="mini-00000",kind="gateway_token"}')).toBe(1);
    expect(oursSamples.get('clawfleet_probe_duration_seconds{node="mini-00001",path="tailnet"}')).toBe(0.25);
  });
});
