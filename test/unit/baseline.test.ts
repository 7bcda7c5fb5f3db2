import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { baselineCheck } from "../../agent/checks/baseline.ts";
import { versionFromHeader, versionOfOwnBinary } from "../../agent/observations/gateway-node.ts";
import { affecting, compareVersions, loadAdvisories, satisfiesEngines } from "../../agent/discovery/advisories.ts";
import { discoverOpenClaw } from "../../agent/discovery/openclaw-world.ts";
import { secretsInHistory } from "../../agent/discovery/shell-history.ts";
import { replayRunner } from "../../agent/platform/command-runner.ts";
import { runCheckWith } from "../helpers/check-context.ts";

describe("versions and advisories", () => {
  it("orders calendar and semantic versions numerically, pre-releases first", () => {
    expect(compareVersions("2026.1.28", "2026.1.29")).toBe(-1);
    expect(compareVersions("2026.10.1", "2026.9.30")).toBe(1);
    expect(compareVersions("2026.1.29-beta.1", "2026.1.29")).toBe(-1);
    expect(compareVersions("v24.16.0", "24.16.0")).toBe(0);
  });

  it("orders as OpenClaw does: a numeric -N is a correction after the release, .beta.N a legacy pre-release; a non-version cannot be ordered", () => {
    expect(compareVersions("2026.1.28-1", "2026.1.28")).toBe(1);
    expect(compareVersions("2026.1.28-2", "2026.1.28-1")).toBe(1);
    expect(compareVersions("2026.1.29.beta.2", "2026.1.29")).toBe(-1);
    expect(compareVersions("2026.1.29.beta.2", "2026.1.29-beta.2")).toBe(0);
    // The old numeric compare made "24.16" equal to "v24.16.0" and "latest" equal to "0.0.0".
    expect(compareVersions("v24.16.0", "24.16")).toBeUndefined();
    expect(compareVersions("latest", "2026.1.28")).toBeUndefined();
  });

  it("knows CVE-2026-25253 affects 2026.1.28 and not 2026.1.29", () => {
    const { advisories } = loadAdvisories();
    expect(affecting(advisories, "2026.1.28").affected.map((a) => a.id)).toContain("CVE-2026-25253");
    expect(affecting(advisories, "2026.1.29").affected.map((a) => a.id)).not.toContain("CVE-2026-25253");
    // A version semver cannot read is neither affected nor clean.
    expect(affecting(advisories, "dev-build")).toMatchObject({ affected: [], cannotTell: [{ id: "CVE-2026-25253" }] });
    expect(advisories.find((a) => a.id === "CVE-2026-25253")!.sources.length).toBeGreaterThan(0);
  });

  it("names the field of a malformed operator advisory file", () => {
    const dir = mkdtempSync(join(tmpdir(), "clawfleet-adv-"));
    const path = join(dir, "bad.json");
    writeFileSync(path, JSON.stringify({ advisories: [{ id: "X-1", fixedIn: "1.0.0" }] }));
    const { advisories, error } = loadAdvisories(path);
    expect(error).toBe(`${path}: advisories[0].affectedUpTo must be a string`);
    expect(advisories.length).toBeGreaterThan(0); // the bundled ones still apply
    rmSync(dir, { recursive: true });
  });

  it("reads OpenClaw's engines range", () => {
    const range = ">=24.16.0 <25 || >=26.1.0";
    expect(satisfiesEngines("24.21.0", range)).toBe(true);
    expect(satisfiesEngines("22.12.0", range)).toBe(false);
    expect(satisfiesEngines("25.2.0", range)).toBe(false);
    expect(satisfiesEngines("26.1.0", range)).toBe(true);
    expect(satisfiesEngines("v24.16.0", range)).toBe(true);
    expect(satisfiesEngines("26.1.0-rc.1", ">=26.0.0")).toBe(true); // npm checks engines with includePrerelease
  });

  it("says cannot tell for a range or version semver does not understand, instead of counting it as satisfied", () => {
    expect(satisfiesEngines("22.12.0", "node 24 or newer")).toBeUndefined();
    expect(satisfiesEngines("22.12.0", ">=24.16.0 <25 ||| >=26")).toBeUndefined();
    expect(satisfiesEngines("unknown", ">=24")).toBeUndefined();
    expect(satisfiesEngines("22.12.0", "^24 || ~26.1")).toBe(false); // forms the old parser did not know
    expect(satisfiesEngines("24.3.0", "^24 || ~26.1")).toBe(true);
  });
});

describe("the gateway's Node version", () => {
  it("is read from include/node/node_version.h beside the binary, as official builds and Homebrew ship it", () => {
    const prefix = mkdtempSync(join(tmpdir(), "clawfleet-nodeprefix-"));
    mkdirSync(join(prefix, "bin"));
    mkdirSync(join(prefix, "include", "node"), { recursive: true });
    writeFileSync(join(prefix, "bin", "node"), "", { mode: 0o755 });
    writeFileSync(join(prefix, "include", "node", "node_version.h"), "#define NODE_MAJOR_VERSION 22\n#define NODE_MINOR_VERSION 12\n#define NODE_PATCH_VERSION 0\n");
    expect(versionFromHeader(join(prefix, "bin", "node"))).toBe("22.12.0");
    expect(versionFromHeader("/nonexistent/bin/node")).toBeUndefined();
    rmSync(prefix, { recursive: true });
  });

  it("knows a gateway running on the agent's own Node binary (through any link) without starting it", () => {
    const dir = mkdtempSync(join(tmpdir(), "clawfleet-node-self-"));
    symlinkSync(process.execPath, join(dir, "node"));
    expect(versionOfOwnBinary(join(dir, "node"))).toBe(process.versions.node);
    // Another file is another install, whatever its name: its version is not assumed.
    writeFileSync(join(dir, "node-other"), "", { mode: 0o755 });
    expect(versionOfOwnBinary(join(dir, "node-other"))).toBeUndefined();
    expect(versionOfOwnBinary(join(dir, "missing"))).toBeUndefined();
    rmSync(dir, { recursive: true });
  });
});

describe("secrets in shell history", () => {
  it("finds a secret anywhere in the file and ignores values too short to be secrets", () => {
    const dir = mkdtempSync(join(tmpdir(), "clawfleet-hist-"));
    writeFileSync(join(dir, ".zsh_history"), ": 1795595152:0;curl -H 'Authorization: Bearer cf-hist-token-1234567890ab' http://127.0.0.1:18789/tools/invoke\n");
    const hits = secretsInHistory([join(dir, ".zsh_history"), join(dir, "missing")], ["cf-hist-token-1234567890ab", "short", "absent-token-0987654321"]);
    expect(hits).toEqual([{ path: join(dir, ".zsh_history"), secrets: ["cf-hist-token-1234567890ab"] }]);
    rmSync(dir, { recursive: true });
  });
});

describe("baseline posture", () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "clawfleet-baseline-"));
    mkdirSync(join(home, ".openclaw"));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));
  /** A Node install that is not the one the agent runs on (that one's version is known without asking). */
  const otherNode = () => {
    mkdirSync(join(home, "other-node", "bin"), { recursive: true });
    writeFileSync(join(home, "other-node", "bin", "node"), "", { mode: 0o755 });
    return join(home, "other-node", "bin", "node");
  };
  const world = (config: unknown) => {
    writeFileSync(join(home, ".openclaw", "openclaw.json"), JSON.stringify(config), { mode: 0o600 });
    return discoverOpenClaw({ HOME: home, PATH: "/usr/bin:/bin" });
  };

  it("flags a gateway on 0.0.0.0 with plain-HTTP Control UI and auth off, and names the bind", async () => {
    const findings = await runCheckWith(baselineCheck, world({ gateway: { bind: "lan", auth: { mode: "none" } } }), {
      "port-owner": { listenAddresses: ["0.0.0.0"], pid: 4242, gateway: { pid: 4242, argv: ["openclaw-gateway"], version: "2026.9.6", tokenOnCommandLine: false } },
      loopback: false,
    });
    const byCode = Object.fromEntries(findings.map((f) => [f.code, f]));
    expect(byCode.gateway_exposed).toMatchObject({ status: "fail", evidence: { bind: "0.0.0.0", configBind: "lan" } });
    expect(byCode.insecure_transport).toMatchObject({ status: "warn" });
    expect(byCode.auth_disabled).toMatchObject({ status: "fail" });
    expect(byCode.openclaw_vulnerable).toBeUndefined();
  });

  it("treats a tailnet-only bind as a warning, and TLS as no insecure transport", async () => {
    const findings = await runCheckWith(baselineCheck, world({ gateway: { bind: "tailnet", tls: { enabled: true } } }), {
      "port-owner": { listenAddresses: ["127.0.0.1", "100.101.102.103"], pid: 1, gateway: { pid: 1, argv: ["openclaw-gateway"], version: "2026.9.6", tokenOnCommandLine: false } },
      loopback: false,
    });
    expect(findings.find((f) => f.code === "gateway_exposed")).toMatchObject({ status: "warn", evidence: { bind: "100.101.102.103" } });
    expect(findings.find((f) => f.code === "insecure_transport")).toBeUndefined();
  });

  it("flags Funnel (public), and leaves Serve with a non-loopback bind to the startup check (OpenClaw refuses to start)", async () => {
    const owner = { "port-owner": { listenAddresses: [], pid: undefined }, loopback: false };
    const serveLan = await runCheckWith(baselineCheck, world({ gateway: { bind: "lan", tailscale: { mode: "serve" } } }), owner);
    // One fact, one finding: startup-check.test.ts asserts tailscale_bind_conflict for this config.
    expect(serveLan.find((f) => f.code === "gateway_exposed")).toBeUndefined();
    const funnel = await runCheckWith(baselineCheck, world({ gateway: { bind: "loopback", tailscale: { mode: "funnel" } } }), owner);
    expect(funnel.find((f) => f.code === "gateway_exposed")).toMatchObject({ status: "warn", evidence: { bind: "tailscale funnel (internet)" } });
  });

  it("flags a vulnerable version and an unsupported Node from the install's engines", async () => {
    const findings = await runCheckWith(baselineCheck, world({}), {
      "port-owner": { listenAddresses: ["127.0.0.1"], pid: 1, gateway: { pid: 1, argv: ["openclaw-gateway"], version: "2026.1.28", enginesNode: ">=24.16.0", exe: process.execPath, tokenOnCommandLine: false } },
      loopback: false,
    });
    expect(findings.find((f) => f.code === "openclaw_vulnerable")).toMatchObject({ evidence: { advisory: "CVE-2026-25253", fixedIn: "2026.1.29" } });
    // No recording for `node --version`: the version is unknown, so no runtime finding.
    expect(findings.find((f) => f.code === "node_runtime_unsupported")).toBeUndefined();
  });

  it("flags a gateway whose Node is outside the install's engines range", async () => {
    const exe = otherNode();
    const runner = replayRunner({ [`${exe} --version`]: { stdout: "v22.12.0\n" } });
    const findings = await runCheckWith(baselineCheck, world({}), {
      "port-owner": { listenAddresses: ["127.0.0.1"], pid: 1, gateway: { pid: 1, argv: ["openclaw-gateway"], version: "2026.9.6", enginesNode: ">=24.16.0 <25 || >=26.1.0", exe, tokenOnCommandLine: false } },
      loopback: false,
    }, runner);
    expect(findings.find((f) => f.code === "node_runtime_unsupported")).toMatchObject({ status: "warn", evidence: { nodeVersion: "22.12.0", required: ">=24.16.0 <25 || >=26.1.0" } });
  });

  it("says it cannot tell when the engines range is not one semver reads, instead of passing the Node as supported", async () => {
    const exe = otherNode();
    const runner = replayRunner({ [`${exe} --version`]: { stdout: "v22.12.0\n" } });
    const findings = await runCheckWith(baselineCheck, world({}), {
      "port-owner": { listenAddresses: ["127.0.0.1"], pid: 1, gateway: { pid: 1, argv: ["openclaw-gateway"], version: "2026.9.6", enginesNode: "node 24 LTS", exe, tokenOnCommandLine: false } },
      loopback: false,
    }, runner);
    expect(findings.find((f) => f.code === "node_runtime_unsupported")).toBeUndefined();
    const summary = findings.find((f) => f.status === "ok")!;
    expect(summary.summary).toContain(`cannot tell whether Node 22.12.0 satisfies OpenClaw's engines range "node 24 LTS"`);
    expect(summary.summary).not.toMatch(/; Node 22\.12\.0;/);
    expect(summary.evidence.cannotTell).toContain("node 24 LTS");
  });
});
