// Linux power inputs (/sys/power/state, `systemctl is-enabled`, /proc/uptime,
// logind.conf) and Tailscale's LocalAPI JSON (status, serve config): random,
// mutated, wrongly typed, deeply nested and ~1 MB. Parsers never throw (or
// throw only their documented error naming the file); the LocalAPI checks
// either accept JSON the checks can read without a TypeError, or name the
// offending field.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { replayRunner } from "../../agent/platform/command-runner.ts";
import { parseIsEnabled, parseKernelSleepStates, readIdleAction, readSuspendClock, SLEEP_TARGETS, type LinuxPowerSources } from "../../agent/platform/linux-power.ts";
import { readPowerFacts } from "../../agent/platform/power-facts.ts";
import { checkServeConfig, checkStatus } from "../../agent/discovery/tailscale-json.ts";
import { keyExpired, selfDnsName } from "../../agent/discovery/tailscale-localapi.ts";
import { findGatewayRoute, serveHandlers } from "../../agent/probes/tailnet-serve-route.ts";
import { anyText, deeplyNestedJson, expectWithinBudget, fixture, hugeFrom, hugeShapes, inputsFor, parsesOrFailsCleanly } from "./arbitraries.ts";

const isEnabledFixtures = ["systemctl-is-enabled-static.txt", "systemctl-is-enabled-masked.txt", "systemctl-is-enabled-missing-unit.txt"].map((f) => fixture(`systemd/${f}`));
const POWER_WORDS = ["freeze", " mem", " disk", "static", "masked", "enabled", "\n", "[Login]\n", "IdleAction=", "suspend", "ignore", "12345.67 ", "890.12", "-1", "NaN", " "];

function sources(files: Record<string, string>, monotonic = 1000): LinuxPowerSources {
  return {
    readFile: async (path) => {
      if (files[path] === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
      return files[path]!;
    },
    readDir: async () => ["50-x.conf"],
    monotonicMs: () => monotonic,
    nowMs: () => 1_800_000_000_000,
  };
}

describe("Linux power parsers", () => {
  it("/sys/power/state and `systemctl is-enabled` never throw", () =>
    fc.assert(
      fc.property(inputsFor(POWER_WORDS, ...isEnabledFixtures), (text) => {
        parsesOrFailsCleanly(text, () => parseKernelSleepStates(text));
        const targets = parsesOrFailsCleanly(text, () => parseIsEnabled(text, SLEEP_TARGETS));
        if (targets) expect(Object.keys(targets)).toEqual([...SLEEP_TARGETS]);
      }),
      { numRuns: 300 },
    ));

  it("/proc/uptime either reads as a finite clock or fails naming /proc/uptime", async () =>
    fc.assert(
      fc.asyncProperty(inputsFor(POWER_WORDS), async (uptime) => {
        try {
          const clock = await readSuspendClock(sources({ "/proc/uptime": uptime }));
          expect(Number.isFinite(clock.suspendedMs) && Number.isFinite(clock.bootedAtMs)).toBe(true);
        } catch (error) {
          expect(error).not.toBeInstanceOf(TypeError);
          expect((error as Error).message).toContain("/proc/uptime");
        }
      }),
      { numRuns: 300 },
    ));

  it("logind.conf and its drop-ins never throw", async () =>
    fc.assert(
      fc.asyncProperty(inputsFor(POWER_WORDS), inputsFor(POWER_WORDS), async (conf, dropIn) => {
        await readIdleAction(sources({ "/etc/systemd/logind.conf": conf, "/etc/systemd/logind.conf.d/50-x.conf": dropIn }));
      }),
      { numRuns: 200 },
    ));

  it("the whole Linux power reading never throws and reports int64-safe times", async () =>
    fc.assert(
      fc.asyncProperty(inputsFor(POWER_WORDS), inputsFor(POWER_WORDS, ...isEnabledFixtures), inputsFor(POWER_WORDS), async (state, enabled, uptime) => {
        const facts = await readPowerFacts({
          runner: replayRunner({ [`systemctl is-enabled ${SLEEP_TARGETS.join(" ")}`]: { stdout: enabled, stderr: "", exitCode: 0 } }),
          platform: "linux",
          linuxSources: sources({ "/sys/power/state": state, "/proc/uptime": uptime }),
        });
        expect(Number.isFinite(facts.lastWakeMs)).toBe(true);
      }),
      { numRuns: 150 },
    ));

  it("stays linear on ~1 MB inputs", () => {
    const parse = (t: string) => [parseKernelSleepStates(t), parseIsEnabled(t, SLEEP_TARGETS)];
    for (const huge of hugeShapes(...isEnabledFixtures)) expectWithinBudget("parseKernelSleepStates/parseIsEnabled", huge, parse);
    fc.assert(fc.property(hugeFrom(POWER_WORDS), (huge) => void expectWithinBudget("parseKernelSleepStates/parseIsEnabled", huge, parse)), { numRuns: 6, endOnFailure: true });
  });
});

const statusFixtures = ["status-running.json", "status-stopped.json", "status-needs-login.json", "status-nostate.json", "status-key-expired.json"].map((f) => JSON.parse(fixture(`tailscale/${f}`)) as unknown);
const serveFixtures = ["serve-config-services.json", "serve-config-foreground.json", "serve-config-other-app.json", "serve-config-background.json", "serve-config-tcp-forward.json", "serve-config-tls-terminated-tcp.json", "serve-config-service-tcp.json"].map((f) => JSON.parse(fixture(`tailscale/${f}`)) as unknown);

/** Any JSON value, and fixtures with one field (at any depth) replaced by one. */
const anyJson = fc.jsonValue({ maxDepth: 4 });
function withReplacedField(documents: unknown[]): fc.Arbitrary<unknown> {
  return fc.tuple(fc.constantFrom(...documents), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), anyJson).map(([doc, path, value]) => {
    const copy = structuredClone(doc);
    let node: unknown = copy;
    for (const [n, step] of path.entries()) {
      if (node === null || typeof node !== "object") break;
      const keys = Object.keys(node);
      if (keys.length === 0) break;
      const key = keys[step % keys.length]!;
      if (n === path.length - 1) (node as Record<string, unknown>)[key] = value;
      else node = (node as Record<string, unknown>)[key];
    }
    return copy;
  });
}

/** What the tunnel check does with an accepted answer: none of it may throw. */
function readLikeTheTunnelCheck(status: ReturnType<typeof checkStatus>, serve: ReturnType<typeof checkServeConfig>): void {
  if ("status" in status) {
    keyExpired(status.status);
    selfDnsName(status.status);
    (status.status.Health ?? []).join(" ");
    (status.status.Self?.TailscaleIPs ?? status.status.TailscaleIPs ?? []).find((a) => a.includes("."));
  } else expect(status.error).toMatch(/^status/);
  if ("config" in serve) {
    serveHandlers(serve.config);
    findGatewayRoute(serve.config, 18789, { managedByOpenClaw: true });
    findGatewayRoute(serve.config, 18789, { managedByOpenClaw: false, nodeName: "mini-01.tail1234.ts.net", magicDnsSuffix: "tail1234.ts.net" });
  } else expect(serve.error).toMatch(/^serve config/);
}

describe("Tailscale LocalAPI answers", () => {
  it("accepts the recorded answers", () => {
    for (const s of statusFixtures) expect(checkStatus(s)).toHaveProperty("status");
    for (const s of serveFixtures) expect(checkServeConfig(s)).toHaveProperty("config");
    expect(checkServeConfig(null)).toEqual({ config: null });
  });

  it("any JSON, or a recorded answer with a field replaced: accepted and readable, or refused naming the field", () =>
    fc.assert(
      fc.property(fc.oneof(anyJson, withReplacedField(statusFixtures)), fc.oneof(anyJson, withReplacedField(serveFixtures)), (status, serve) => {
        readLikeTheTunnelCheck(parsesOrFailsCleanly(JSON.stringify(status), () => checkStatus(status))!, parsesOrFailsCleanly(JSON.stringify(serve), () => checkServeConfig(serve))!);
      }),
      { numRuns: 300 },
    ));

  it("a wrongly typed field is refused with its path", () => {
    expect(checkStatus({ BackendState: "Running", Health: "key expired" })).toEqual({ error: "status.Health is a string, not a list of strings" });
    expect(checkStatus({ BackendState: "Running", Self: { DNSName: 7 } })).toEqual({ error: "status.Self.DNSName is a number, not a string" });
    expect(checkServeConfig({ Web: { "h:443": { Handlers: { "/": { Proxy: ["x"] } } } } })).toEqual({ error: "serve config.Web.h:443.Handlers./.Proxy is a list, not a string" });
    // TCPPortHandler.ProxyProtocol is an int (`serve --tcp --proxy-protocol 2`).
    expect(checkServeConfig({ TCP: { "443": { TCPForward: "127.0.0.1:18789", ProxyProtocol: 2 } } })).toHaveProperty("config");
    expect(checkServeConfig({ Services: { "svc:x": { TCP: { "443": { TCPForward: "127.0.0.1:18789", ProxyProtocol: "2" } } } } })).toEqual({ error: "serve config.Services.svc:x.TCP.443.ProxyProtocol is a string, not a number" });
  });

  it("deeply nested JSON (depth 10,000) and huge arrays are refused or read without a stack overflow, fast", () => {
    for (const text of [deeplyNestedJson(10_000, "array"), deeplyNestedJson(10_000, "object"), `{"BackendState":"Running","Health":${deeplyNestedJson(10_000, "array")}}`, `{"Foreground":${'{"s":{"Foreground":'.repeat(5_000)}null${"}}".repeat(5_000)}}`, `{"BackendState":"x","Health":[${'"k",'.repeat(200_000)}"k"]}`]) {
      const started = performance.now();
      const value = JSON.parse(text) as unknown;
      readLikeTheTunnelCheck(checkStatus(value), checkServeConfig(value));
      expect(performance.now() - started).toBeLessThan(2000);
    }
  });

  it("keyExpired stays linear on a ~1 MB health message", () => {
    for (const huge of hugeShapes()) expectWithinBudget("keyExpired", huge, (t) => keyExpired({ BackendState: "NeedsLogin", Health: [t] }));
    fc.assert(fc.property(hugeFrom(["key ", "expired ", "expir", "node ", "\n", " "]), (huge) => void expectWithinBudget("keyExpired", huge, (t) => keyExpired({ BackendState: "NeedsLogin", Health: [t] }))), { numRuns: 6, endOnFailure: true });
  });

  it("keyExpired reads a message the way /\\bkey\\b.*\\bexpir|\\bexpired\\b.*\\bkey\\b/i did, on inputs small enough for that", () =>
    fc.assert(
      fc.property(fc.oneof(anyText, fc.array(fc.constantFrom("key", "Key", "expired", "expiry", " ", "x", "\n", ".", "keys", "expir"), { maxLength: 12 }).map((p) => p.join(""))), (text) => {
        expect(keyExpired({ BackendState: "NeedsLogin", Health: [text] })).toBe(/\bkey\b.*\bexpir|\bexpired\b.*\bkey\b/i.test(text));
      }),
      { numRuns: 300 },
    ));
});
