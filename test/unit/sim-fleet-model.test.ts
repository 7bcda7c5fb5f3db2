// The simulator's model of a fleet: the failure mix (validation, exact counts,
// seeded spread) and what each simulated node reports (every check, the code
// its condition names as the primary, secrets only as fingerprints).
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { assignConditions, DEFAULT_FAILURE_MIX, FailureMixError, HEALTHY, mixCounts, NODE_CODES, parseFailureMix } from "../../agent/sim/failure-mix.ts";
import { seededRandom } from "../../agent/sim/seeded-random.ts";
import { simulatedRun } from "../../agent/sim/sim-findings.ts";
import { simHost } from "../../agent/sim/sim-host.ts";
import { ALL_CHECKS } from "../../agent/checks/index.ts";
import { hostFacts } from "../../agent/report/host-facts.ts";
import { wireReport } from "../../agent/report/wire-report.ts";
import { fingerprinter, isFingerprint } from "../../shared/fingerprint.ts";
import { ReportSchema } from "../../shared/gen/clawfleet/v1/report_pb.ts";
import { CODES, type Code } from "../../shared/taxonomy.ts";

const fleetKey = new Uint8Array(32).fill(9);

describe("--failure-mix", () => {
  it.each([
    ["healthy=80,tokn_mismatch=5", /entry "tokn_mismatch=5": "tokn_mismatch" is not a reason code/],
    ["healthy=80,token_shared=5", /entry "token_shared=5": token_shared is found by the collector across the fleet/],
    ["healthy=80,silent_unreachable=5", /silent_unreachable is found by the collector/],
    ["healthy", /entry "healthy" is not CODE=WEIGHT/],
    ["healthy=-1", /entry "healthy=-1" is not CODE=WEIGHT/],
    ["healthy=1,healthy=2", /names "healthy" twice/],
    ["healthy=0,token_mismatch=0", /every weight is 0/],
    ["", /is empty/],
  ])("refuses %j, naming the bad entry", (text, message) => {
    expect(() => parseFailureMix(text)).toThrow(FailureMixError);
    expect(() => parseFailureMix(text)).toThrow(message);
  });

  it("accepts the default mix and every code a node's checks report", () => {
    expect([...parseFailureMix(DEFAULT_FAILURE_MIX).values()].reduce((a, b) => a + b)).toBe(100);
    expect(parseFailureMix(NODE_CODES.map((c) => `${c}=1`).join(",")).size).toBe(NODE_CODES.length);
  });

  it("gives each condition its exact share, the rest by largest remainder, and spreads them by the seed", () => {
    const mix = parseFailureMix("healthy=80,token_mismatch=5,tailscale_needs_login=3,api_key_missing=12");
    expect(Object.fromEntries(mixCounts(mix, 30))).toEqual({ healthy: 24, token_mismatch: 1, tailscale_needs_login: 1, api_key_missing: 4 });
    expect(Object.fromEntries(mixCounts(mix, 1000))).toEqual({ healthy: 800, token_mismatch: 50, tailscale_needs_login: 30, api_key_missing: 120 });
    const a = assignConditions(mix, 30, seededRandom(7));
    expect(assignConditions(mix, 30, seededRandom(7))).toEqual(a);
    expect(assignConditions(mix, 30, seededRandom(8))).not.toEqual(a);
    expect(a.filter((c) => c === "api_key_missing")).toHaveLength(4);
  });
});

describe("a simulated node's report", () => {
  const run = (condition: Code | typeof HEALTHY, sleeper = false) => {
    const host = simHost({ nodeId: "sim-0001", condition, sleeper, seed: 1, random: seededRandom(1), nowMs: Date.now() });
    return simulatedRun(host, fingerprinter(fleetKey), { lastSleepMs: 0, lastWakeMs: 0 }, Date.now());
  };

  it("has a finding from every check the real agent runs, all passing when healthy", () => {
    const healthy = run(HEALTHY);
    expect(new Set(healthy.findings.map((f) => f.check))).toEqual(new Set(ALL_CHECKS.map((c) => c.name)));
    expect(healthy.verdict).toBe("ok");
    expect(healthy.primary).toBeNull();
    const report = wireReport(1n, healthy, hostFacts(healthy));
    // A real report's size: a few KB, not a toy.
    expect(toBinary(ReportSchema, report).length).toBeGreaterThan(2000);
    expect(fromBinary(ReportSchema, toBinary(ReportSchema, report)).maySleep).toBe(false);
  });

  it.each(NODE_CODES)("leads with %s when that is its condition, with the taxonomy's status and evidence for every value its action names", (code) => {
    const result = run(code);
    expect(result.primary?.code).toBe(code);
    expect(result.verdict).toBe(CODES[code].severity);
    for (const [, name] of CODES[code].action.matchAll(/\{(\w+)\}/g)) expect(result.primary!.evidence[name!], name).toBeDefined();
  });

  it("sends secrets only as fingerprints keyed with the fleet key, and a sleeper says it may sleep", () => {
    const result = run("token_mismatch", true);
    expect(result.credentials.map((c) => c.kind)).toEqual(["gateway_token", "provider_key"]);
    for (const c of result.credentials) expect(c.fingerprint).toMatch(/^hmac:[0-9a-f]{16}$/);
    const text = JSON.stringify(result);
    expect(text).not.toContain("gateway-token");
    expect(text).not.toContain("anthropic-key");
    for (const f of result.findings) if (f.evidence.fingerprint) expect(isFingerprint(f.evidence.fingerprint)).toBe(true);
    expect(hostFacts(result).maySleep).toBe(true);
    expect(result.findings.find((f) => f.check === "power")?.code).toBe("sleep_enabled");
  });
});
