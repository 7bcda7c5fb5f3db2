// `collector query nodes` answers for a whole large fleet in one message: more
// than gRPC's default 4 MiB receive limit, which made the CLI fail with
// RESOURCE_EXHAUSTED from about 8,000 nodes (5 MB at 10,000 with a tenth failing).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problem } from "../../shared/finding.ts";
import { startCollectorOnSeededStore } from "../helpers/collector.ts";
import { runClawfleet } from "../helpers/processes.ts";

const NODES = 2500;

describe("queries over a large fleet (real collector process)", () => {
  let collector: Awaited<ReturnType<typeof startCollectorOnSeededStore>>;

  beforeAll(async () => {
    collector = await startCollectorOnSeededStore("clawfleet-large-", (store, now) => {
      // Every node failing in four layers with long summaries: ~2 KB a node on the wire, 5 MB in all.
      const why = (layer: string, i: number) => `${layer} fails on node ${i}: ${"the gateway refused what this node sent; ".repeat(9)}`;
      for (let i = 0; i < NODES; i++) {
        const nodeId = `big-${String(i).padStart(5, "0")}`;
        store.upsertNode({ nodeId, hostname: nodeId, platform: "darwin", agentVersion: "0.1.0", openclawVersion: "2026.9.6" }, now, 0);
        store.applyReport({
          nodeId, seq: 1n, observedAtMs: now, receivedAtMs: now, verdict: "fail", primaryIndex: 0, durationMs: 100, maySleep: false, lastWakeMs: 0, lastSleepMs: 0, openclawVersion: "2026.9.6", credentials: [],
          findings: [
            problem("session", "token_mismatch", why("session", i), { fingerprint: `hmac:${String(i).padStart(16, "0")}` }),
            problem("provider", "api_key_missing", why("provider", i), { agent: "main", provider: "anthropic" }),
            problem("drift", "multiple_binaries", why("drift", i)),
            problem("power", "sleep_enabled", why("power", i)),
          ],
        }, []);
      }
    });
  }, 60_000);

  afterAll(() => collector?.stop());

  it("`query nodes` lists every node when the answer is larger than 4 MiB", async () => {
    const run = await runClawfleet(["collector", "query", "nodes", "--insecure", "--collector", collector.grpcAddress, "--json"]);
    expect(run.stderr).not.toContain("RESOURCE_EXHAUSTED");
    expect(run.code, run.stderr).toBe(1); // something listed is failing
    expect(run.stdout.length).toBeGreaterThan(4 * 1024 * 1024);
    const nodes = (JSON.parse(run.stdout) as { nodes: { id: string }[] }).nodes;
    expect(nodes).toHaveLength(NODES);
    expect(new Set(nodes.map((n) => n.id)).size).toBe(NODES);
  });
});
