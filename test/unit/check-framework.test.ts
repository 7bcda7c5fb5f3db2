// The check framework and the small decisions inside checks that a real
// gateway cannot be made to show on demand: a hung or crashing check, the
// gateway's rejection codes, a gateway that answers but is not ready.
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Check, CheckContext } from "../../agent/checks/check.ts";
import { gatewayCheck } from "../../agent/checks/gateway.ts";
import { observedIn, runChecks } from "../../agent/checks/run-checks.ts";
import { codeForRejection } from "../../agent/checks/session.ts";
import { discoverOpenClaw } from "../../agent/discovery/openclaw-world.ts";
import { replayRunner } from "../../agent/platform/command-runner.ts";
import { observation, type Observation } from "../../agent/observations/observation.ts";
import { newRunCaches } from "../../agent/observations/run-caches.ts";
import { fleetFindings } from "../../collector/classify/fleet-findings.ts";
import { passed } from "../../shared/finding.ts";
import { localFingerprint } from "../../shared/fingerprint.ts";
import { runCheckWith } from "../helpers/check-context.ts";

const home = mkdtempSync(join(tmpdir(), "clawfleet-framework-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const world = (port = 1) => discoverOpenClaw({ HOME: home, OPENCLAW_GATEWAY_PORT: String(port) });

describe("running checks", () => {
  it("turns a check that overruns its deadline into check_timeout and one that throws into check_error, and still runs the rest", async () => {
    const hangs: Check = { name: "hangs", layer: "drift", deadlineMs: 50, observes: [], run: () => new Promise(() => {}) };
    const throws: Check = { name: "throws", layer: "power", deadlineMs: 1000, observes: [], run: async () => { throw new Error("pmset exploded"); } };
    const fine: Check = { name: "fine", layer: "gateway", deadlineMs: 1000, observes: [], run: async () => [passed("fine", "gateway", "ok")] };
    const started = performance.now();
    const run = await runChecks([hangs, throws, fine], { world: world(), fingerprint: localFingerprint, runner: replayRunner({}), platform: "linux" });
    expect(performance.now() - started).toBeLessThan(1000);
    const byCheck = Object.fromEntries(run.findings.map((f) => [f.check, f]));
    expect(byCheck.hangs).toMatchObject({ code: "check_timeout", layer: "agent", evidence: { check: "hangs", deadlineMs: "50" } });
    expect(byCheck.throws).toMatchObject({ code: "check_error", layer: "agent", evidence: { error: "pmset exploded" } });
    expect(byCheck.fine!.status).toBe("ok");
    expect(run.verdict).toBe("warn");
  });
});

describe("observations", () => {
  let gathered = 0;
  const slow = observation<string>("slow-fact", 60, [], () => new Promise(() => {}));
  const counted = observation<number>("counted-fact", 1000, [], async () => ++gathered);
  const derived = observation<number>("derived-fact", 1000, [slow], async (ctx) => (await ctx.observe(slow)).length);
  const judge = (name: string, layer: "drift" | "power" | "baseline", observes: Observation<unknown>[], read: (ctx: CheckContext) => Promise<unknown>): Check => ({
    name, layer, deadlineMs: 2000, observes,
    run: async (ctx) => [passed(name, layer, `saw ${String(await read(ctx))}`)],
  });

  it("reports a slow observation once as its own check_timeout, skips only the checks that need it, and gathers a shared one once", async () => {
    gathered = 0;
    const run = await runChecks([
      judge("needs-slow", "drift", [slow], (ctx) => ctx.observe(slow)),
      judge("needs-derived", "baseline", [derived], (ctx) => ctx.observe(derived)),
      judge("first", "power", [counted], (ctx) => ctx.observe(counted)),
      judge("second", "power", [counted], (ctx) => ctx.observe(counted)),
    ], { world: world(), fingerprint: localFingerprint, runner: replayRunner({}), platform: "linux" });
    const byCheck = Object.fromEntries(run.findings.map((f) => [f.check, f]));
    const timeouts = run.findings.filter((f) => f.code === "check_timeout");
    expect(timeouts).toHaveLength(1);
    expect(byCheck["slow-fact"]).toMatchObject({ code: "check_timeout", evidence: { deadlineMs: "60" } });
    expect(byCheck["needs-slow"]).toMatchObject({ status: "skip", evidence: { observation: "slow-fact" } });
    expect(byCheck["needs-derived"]).toMatchObject({ status: "skip", evidence: { observation: "slow-fact" } });
    expect([byCheck.first!.summary, byCheck.second!.summary]).toEqual(["saw 1", "saw 1"]);
    expect(gathered).toBe(1);
  });

  it("hands the run the observations it gathered, by name, for a report to quote; none that failed or nobody asked for", async () => {
    gathered = 0;
    const unused = observation<string>("unused-fact", 1000, [], async () => "never");
    const run = await runChecks([
      judge("needs-slow", "drift", [slow], (ctx) => ctx.observe(slow)),
      judge("first", "power", [counted], (ctx) => ctx.observe(counted)),
    ], { world: world(), fingerprint: localFingerprint, runner: replayRunner({}), platform: "linux" });
    expect(observedIn(run, counted)).toBe(1);
    expect(observedIn(run, slow)).toBeUndefined();
    expect(observedIn(run, unused)).toBeUndefined();
    expect([...run.observed!.keys()]).toEqual(["counted-fact"]);
  });

  it("refuses an observation the check did not declare (check_error naming both)", async () => {
    const run = await runChecks([judge("sneaky", "drift", [], (ctx) => ctx.observe(counted))], { world: world(), fingerprint: localFingerprint, runner: replayRunner({}), platform: "linux" });
    expect(run.findings[0]).toMatchObject({ code: "check_error" });
    expect(run.findings[0]!.summary).toContain("sneaky check observes counted-fact without declaring it");
  });

  it("keeps nothing between runs except the caches the caller passes in", async () => {
    const remembering = observation<number>("remembering", 1000, [], async (ctx) => {
      const seen = Number(ctx.caches.nodeVersions.get("runs") ?? 0) + 1;
      ctx.caches.nodeVersions.set("runs", String(seen));
      return seen;
    });
    const check = judge("counter", "drift", [remembering], (ctx) => ctx.observe(remembering));
    const input = { world: world(), fingerprint: localFingerprint, runner: replayRunner({}), platform: "linux" as const };
    const caches = newRunCaches();
    expect((await runChecks([check], { ...input, caches })).findings[0]!.summary).toBe("saw 1");
    expect((await runChecks([check], { ...input, caches })).findings[0]!.summary).toBe("saw 2");
    expect((await runChecks([check], input)).findings[0]!.summary).toBe("saw 1");
  });
});

describe("session rejection codes", () => {
  it.each([
    [{ detailCode: "AUTH_TOKEN_MISMATCH" }, "token_mismatch"],
    [{ detailCode: "AUTH_RATE_LIMITED" }, "rate_limited"],
    [{ detailCode: "PAIRING_REQUIRED" }, "device_identity_required"],
    [{ detailCode: "DEVICE_IDENTITY_REQUIRED" }, "device_identity_required"],
    [{ detailCode: "AUTH_TOKEN_NOT_CONFIGURED" }, "token_missing"],
    // Older gateways: only the close reason text (formatGatewayAuthFailureMessage).
    [{ message: "unauthorized: too many failed authentication attempts (retry later)" }, "rate_limited"],
    [{ message: "unauthorized: gateway token missing (provide gateway auth token)" }, "token_missing"],
    [{ message: "something new" }, "token_mismatch"],
  ])("maps %j to %s", (rejection, code) => {
    expect(codeForRejection({ outcome: "rejected", elapsedMs: 1, ...rejection })).toBe(code);
  });
});

describe("gateway readiness", () => {
  let server: Server;
  afterAll(() => server?.close());

  it("reports not_ready with what /readyz says is failing", async () => {
    // Shaped like the gateway's own /readyz answer while a sidecar is still starting.
    server = createServer((_req, res) => res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ ready: false, failing: ["channels", "plugins"], uptimeMs: 1200 })));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const [finding] = await runCheckWith(gatewayCheck, world(port), { services: { services: [], errors: [] } });
    expect(finding).toMatchObject({ code: "not_ready", status: "fail", evidence: { failing: "channels, plugins", port: String(port) } });
  });
});

describe("fleet findings", () => {
  it("flags two streams for one node id only after they overlap for 20 s, and a clock more than 60 s off", () => {
    const base = { credentials: [], rotations: [], nowMs: 100_000 };
    expect(fleetFindings({ ...base, nodes: [{ nodeId: "mini-01", clockSkewMs: 0, concurrentStreamsSinceMs: 95_000 }] }).size).toBe(0);
    const conflict = fleetFindings({ ...base, nodes: [{ nodeId: "mini-01", clockSkewMs: 0, concurrentStreamsSinceMs: 79_000 }] });
    expect(conflict.get("mini-01")![0]).toMatchObject({ code: "identity_conflict", layer: "fleet" });
    const skew = fleetFindings({ ...base, nodes: [{ nodeId: "mini-02", clockSkewMs: -95_000 }] });
    expect(skew.get("mini-02")![0]).toMatchObject({ code: "clock_skew", evidence: { skew: "-95 s" } });
    expect(skew.get("mini-02")![0]!.summary).toContain("behind");
  });
});
