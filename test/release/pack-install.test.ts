// The release an operator installs: `npm pack` (which runs prepack: the
// compiled dist/), `npm install -g` of the tarball into a temporary prefix,
// then the installed `clawfleet` run the way a Mac mini runs it, from
// node_modules, where Node will not strip types.
//
// The pack runs in a copy of the package sources (node_modules linked, not
// copied): prepack writes dist/, and a dist/ appearing in the checkout would
// switch every other test's bin/clawfleet.js to compiled code mid-run.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/ports.ts";

const ROOT = join(import.meta.dirname, "../..");
const NODE_BIN = join(ROOT, "node_modules", ".bin");
/** What `npm pack` needs from a checkout: the package's `files` and what prepack compiles them from. */
const SOURCES = ["package.json", "README.md", "bin", "proto", "deploy", "agent", "collector", "shared", "cli", "scripts", "tsconfig.json", "tsconfig.build.json"];
const MAX_PACKED_BYTES = 400 * 1024;

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

describe("npm pack → npm install -g → clawfleet", () => {
  let work: string;
  let prefix: string;
  let home: string;
  let pack: PackResult;
  const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; version: string };
  /** The repo's Node 24 first, as on a host where Node 24 is the `node` on PATH. */
  const path = [NODE_BIN, "/usr/local/bin", "/usr/bin", "/bin"].join(delimiter);

  const run = (command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): SpawnSyncReturns<string> =>
    spawnSync(command, args, { cwd: options.cwd ?? work, env: options.env ?? { ...process.env, PATH: path }, encoding: "utf8", timeout: options.timeoutMs ?? 60_000 });
  /** The installed program with nothing of this machine's world: a fresh HOME, no OPENCLAW_* or CLAWFLEET_*. */
  const clawfleet = (args: string[], extraEnv: Record<string, string> = {}) =>
    run(join(prefix, "bin", "clawfleet"), args, { env: { PATH: path, HOME: home, LANG: "C.UTF-8", ...extraEnv }, timeoutMs: 30_000 });

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "clawfleet-release-"));
    const pkg = join(work, "pkg");
    mkdirSync(pkg);
    for (const source of SOURCES) cpSync(join(ROOT, source), join(pkg, source), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(pkg, "node_modules"), "dir");
    prefix = join(work, "prefix");
    home = join(work, "home");
    mkdirSync(home);

    const packed = run("npm", ["pack", "--json", "--pack-destination", work], { cwd: pkg, timeoutMs: 120_000 });
    if (packed.status !== 0) throw new Error(`npm pack failed (${packed.status}):\n${packed.stdout}\n${packed.stderr}`);
    // Lifecycle scripts (prepack's summary) print before npm's JSON.
    const json = packed.stdout.slice(packed.stdout.search(/^\[$/m));
    pack = (JSON.parse(json) as PackResult[])[0]!;

    // --prefer-offline: the dependencies are in npm's cache after `npm ci`; the registry is asked only for what is missing.
    const installed = run("npm", ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", join(work, pack.filename)], { timeoutMs: 180_000 });
    if (installed.status !== 0) throw new Error(`npm install -g failed (${installed.status}):\n${installed.stdout}\n${installed.stderr}`);
  }, 300_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("packs compiled JavaScript, the launcher and deploy/, and nothing of the tests, sources or node_modules", () => {
    const paths = pack.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining([
      "package.json", "README.md", "bin/clawfleet.js", "dist/cli/main.js", "dist/cli/commands.js", "dist/agent/cli/check-command.js",
      "dist/agent/cli/install-service-command.js", "dist/shared/advisories.json",
      "deploy/launchd/ai.clawfleet.agent.plist", "deploy/systemd/clawfleet-agent.service", "deploy/systemd/clawfleet-collector.service",
    ]));
    expect(paths.filter((p) => /^(?:test|node_modules|bench|scripts|agent|collector|shared|cli)\//.test(p))).toEqual([]);
    // No TypeScript at all: Node would refuse to run it from node_modules.
    expect(paths.filter((p) => p.endsWith(".ts"))).toEqual([]);
    expect(pack.size).toBeLessThan(MAX_PACKED_BYTES);
  });

  it("installs as a bin without the checkout's prepare step or dev dependencies", () => {
    const installedRoot = join(prefix, "lib", "node_modules", manifest.name);
    expect(existsSync(join(prefix, "bin", "clawfleet"))).toBe(true);
    expect(existsSync(join(installedRoot, "dist", "cli", "main.js"))).toBe(true);
    // `prepare` (installs test/openclaw) has nothing to run here: neither its script nor test/ is shipped.
    expect(existsSync(join(installedRoot, "scripts"))).toBe(false);
    expect(existsSync(join(installedRoot, "test"))).toBe(false);
    const deps = readdirSync(join(installedRoot, "node_modules"));
    expect(deps).toEqual(expect.arrayContaining(["@grpc", "@bufbuild", "plist", "json5"]));
    for (const dev of ["typescript", "vitest", "node"]) expect(deps).not.toContain(dev);
  });

  it("`clawfleet --version` prints the package version", () => {
    const result = clawfleet(["--version"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${manifest.version}\n`);
  });

  it("`clawfleet agent check --json` runs from node_modules: no gateway here, so CRITICAL with gateway/not_running", async () => {
    // A port nothing listens on: other tests' gateways on this host must not answer.
    const result = clawfleet(["agent", "check", "--json"], { OPENCLAW_GATEWAY_PORT: String(await freePort()) });
    expect(result.stderr).not.toMatch(/ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING|ERR_UNKNOWN_FILE_EXTENSION|ERR_MODULE_NOT_FOUND/);
    expect(result.status).toBe(2);
    const doc = JSON.parse(result.stdout) as Record<string, unknown> & { node: Record<string, unknown>; primary: Record<string, unknown>; findings: Record<string, unknown>[] };
    expect(doc.schema).toBe("clawfleet.check.v1");
    expect(Object.keys(doc.node).sort()).toEqual(["hostname", "id", "platform"]);
    expect(doc.node.platform).toBe(process.platform);
    expect(doc.verdict).toBe("fail");
    expect(doc.primary).toMatchObject({ layer: "gateway", code: "not_running" });
    expect(Object.keys(doc.primary).sort()).toEqual(["action", "code", "layer", "summary"]);
    expect(doc.findings.length).toBeGreaterThan(0);
    for (const finding of doc.findings) {
      expect(Object.keys(finding)).toEqual(expect.arrayContaining(["check", "layer", "status", "code", "summary", "action", "evidence"]));
      expect(["ok", "warn", "fail", "skip", "error"]).toContain(finding.status);
    }
    expect(doc.findings.find((f) => f.check === "gateway")).toMatchObject({ status: "fail", code: "not_running" });
  }, 40_000);

  it("every command loads from the installed package with production dependencies only", async () => {
    const { COMMANDS } = await import("../../cli/commands.ts");
    for (const command of COMMANDS) {
      const result = clawfleet([...command.path, "--help"]);
      expect(result.stderr, command.path.join(" ")).toBe("");
      expect(result.status, command.path.join(" ")).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: clawfleet ${command.path.join(" ")}`));
    }
  }, 90_000);

  it("`clawfleet agent install-service` from the installed package points the unit at the installed launcher", () => {
    if (process.platform !== "linux" && process.platform !== "darwin") return;
    const result = clawfleet(["agent", "install-service", "--collector", "10.0.0.9:4317", "--node-id", "release-test"]);
    expect(result.status).toBe(0);
    const launcher = join(prefix, "lib", "node_modules", manifest.name, "bin", "clawfleet.js");
    expect(result.stdout).toContain(`${launcher}`);
    expect(result.stdout).toContain("Nothing written.");
    // Dry run: nothing under the fresh HOME.
    expect(readdirSync(home)).toEqual([]);
  });
});
