// Parity with the pinned OpenClaw (test/openclaw, 2026.9.6): the same tricky
// inputs go through OpenClaw's own code, loaded from its dist/, and through ours,
// and must come out identical. A value read differently would become a false
// session or drift finding (issue 12). Property runs use seed FC_SEED (20261205).
import { execFileSync } from "node:child_process";
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import JSON5 from "json5";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareVersions, satisfiesEngines } from "../../agent/discovery/advisories.ts";
import { readConfigFile, substituteEnv, withConfigEnv } from "../../agent/discovery/openclaw-config.ts";
import { discoverOpenClaw } from "../../agent/discovery/openclaw-world.ts";
import { gatewayEnv, lookupEnv } from "../../agent/discovery/provider-env.ts";
import { loadOpenClawDotenv, MAX_DOTENV_FILE_BYTES, readDotenvFile } from "../../agent/discovery/openclaw-dotenv.ts";
import { OPENCLAW_SERVICE_ENV_HEADER, parseShellEnv } from "../../agent/discovery/dotenv-service-env.ts";
import { OPENCLAW_DIST, openclawFunction } from "../helpers/openclaw-dist.ts";

fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261205), numRuns: 200 });

type Env = Record<string, string | undefined>;
type DotenvEntries = { filePath: string; entries: { key: string; value: string }[] } | null;

let readDotEnvFile: (params: { filePath: string; quiet?: boolean }) => DotenvEntries;
let loadGlobalRuntimeDotEnvFiles: (opts: { env: Env; quiet?: boolean; stateEnvPath?: string; additionalEnvPaths?: string[]; overrideKeys?: Set<string> }) => unknown;
let resolveStateDir: (env: Env) => string;
let resolveConfigDir: (env: Env) => string;
let resolveConfigIncludes: (obj: unknown, configPath: string, resolver?: undefined, options?: { allowedRoots?: string[] }) => unknown;
let resolveIncludeRoots: (env: Env) => string[];
let resolveConfigEnvVars: (obj: unknown, env: Env, opts: { onMissing: (w: { varName: string }) => void }) => unknown;
let nodeVersionSatisfiesEngine: (version: string, engine: string) => boolean | null;
let compareOpenClawSemver: (a: unknown, b: unknown) => number;
let normalizeLegacyDotBetaVersion: (v: string) => string;
let semverParse: (v: string) => unknown;

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "clawfleet-parity-"));
  readDotEnvFile = await openclawFunction("dotenv-global", "readDotEnvFile");
  loadGlobalRuntimeDotEnvFiles = await openclawFunction("dotenv-global", "loadGlobalRuntimeDotEnvFiles");
  resolveStateDir = await openclawFunction("paths", "resolveStateDir");
  resolveConfigDir = await openclawFunction("utils", "resolveConfigDir");
  resolveConfigIncludes = await openclawFunction("includes", "resolveConfigIncludes");
  resolveIncludeRoots = await openclawFunction("paths", "resolveIncludeRoots");
  resolveConfigEnvVars = await openclawFunction("redact", "resolveConfigEnvVars");
  nodeVersionSatisfiesEngine = await openclawFunction("runtime-guard", "nodeVersionSatisfiesEngine");
  compareOpenClawSemver = await openclawFunction("semver", "compareOpenClawSemver");
  normalizeLegacyDotBetaVersion = await openclawFunction("semver", "normalizeLegacyDotBetaVersion");
  // OpenClaw's semver is its own dependency (test/openclaw/node_modules/semver), the same 7.8.5 as ours.
  semverParse = (createRequire(join(OPENCLAW_DIST, "..", "package.json"))("semver") as typeof import("semver")).parse;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function fresh(name = "case"): string {
  const path = join(dir, `${name}-${fileCount++}`);
  mkdirSync(path, { recursive: true });
  return path;
}

/** OpenClaw's reading of one .env file, as an object in its entry order. */
function theirs(path: string): Record<string, string> | null {
  const parsed = readDotEnvFile({ filePath: path, quiet: true });
  return parsed && Object.fromEntries(parsed.entries.map((e) => [e.key, e.value]));
}

function ours(path: string): Record<string, string> | null {
  const file = readDotenvFile(path);
  return file.skipped ? null : file.values;
}

const BOM = "\uFEFF";

/** Inputs where a hand-written reader goes wrong; named so a failure says which. */
const DOTENV_CASES: Record<string, string> = {
  "single quotes keep # and \\n": "A='x # not a comment \\n'\n",
  "double quotes turn \\n and \\r into breaks": 'A="line1\\nline2\\rend"\n',
  "backticks": "A=`it's \"both\"`\n",
  "inline comment after a bare value": "A=value # comment\nB=value#tight\n",
  "full-line comments, indented ones too": "# one\n  # two\nA=1\n\t#three\n",
  "export prefix, and export as a key": "export A=1\nexport   B = 2\nexport=3\n",
  "spaces and tabs around =": "A = 1\nB\t=\t2\nC =3\nD= 4 \n",
  "KEY: value (YAML-ish)": "A: 1\nB:2\nC :3\n",
  "empty values": "A=\nB=''\nC=\"\"\nD= # only a comment\n",
  "duplicate keys: the last wins": "A=first\nA=second\nB=1\nB=\n",
  "multi-line double-quoted value": 'A="one\ntwo\n  three"\nB=after\n',
  "multi-line single-quoted value": "A='one\n# not a comment\ntwo'\nB=after\n",
  "CRLF line endings": "A=1\r\nB=\"two\r\nlines\"\r\nC='x'\r\n",
  "lone CR line endings": "A=1\rB=2\r",
  "BOM before the first key": `${BOM}A=1\nB=2\n`,
  "BOM and CRLF and export": `${BOM}export TOKEN="t\\nx"\r\n`,
  "escaped quotes inside quotes": 'A="say \\"hi\\""\nB=\'it\\\'s\'\n',
  "unterminated quote": "A=\"open\nB=2\n",
  "quote only at the start": "A='half\nB=2\n",
  "keys dotenv takes but OpenClaw drops (dots, dashes, digits first)": "a.b=1\nx-y=2\n1A=3\n_ok=4\nlower=5\n",
  "values with = and spaces": "A=x=y=z\nB=two words here\n",
  "unicode and NUL": "A=héllo ✓\nB=a\u0000b\n",
  "$ and ${VAR} are not expanded": "A=$HOME\nB=${HOME}/x\nC=\"$(id)\"\n",
  "shell line continuation is not dotenv": "A=one\\\ntwo\nB=2\n",
  "blank lines and trailing spaces": "\n\n   \nA=1   \n\n",
  "no newline at end": "A=1",
  "only comments": "# A=1\n",
  "a lone U+2028 line separator": "A=1\u2028B=2\n",
  // Long enough that parseDotenv takes its line-anchored twin (dotenv rescans such runs quadratically).
  "8,000 blank lines, some inside a quoted value (the linear twin)": `A=1\n${"\n".repeat(4000)}B="x\n${" \n".repeat(2000)}y"\n${"  \n".repeat(4000)}export C='z' # c\r\n`,
};

describe(".env files: OpenClaw's readDotEnvFile (dotenv 17.4.2 + its key filter) against ours", () => {
  it.each(Object.entries(DOTENV_CASES))("%s", (_name, text) => {
    const path = join(fresh("dotenv"), ".env");
    writeFileSync(path, text);
    const expected = theirs(path);
    expect(expected).not.toBeNull();
    expect(ours(path)).toEqual(expected);
    expect(Object.keys(ours(path)!)).toEqual(Object.keys(expected!)); // same order too
  });

  const WORDS = ["A", "TOKEN", "b_2", "a.b", "x-y", "export ", "=", " = ", ": ", " ", "\t", "\n", "\r\n", "\r", BOM, "'", '"', "`", "\\n", "\\r", "\\'", '\\"', "#", " #", "value", "${A}", "$", "\u2028", "é"];
  it("random .env-shaped files read the same", () =>
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...WORDS), { maxLength: 40 }).map((parts) => parts.join("")), (text) => {
        const path = join(dir, "random.env");
        writeFileSync(path, text);
        expect(ours(path)).toEqual(theirs(path));
      }),
    ));

  it("a file over 1 MiB is skipped by both; a directory and a missing file give nothing", () => {
    const base = fresh("limits");
    writeFileSync(join(base, "big.env"), `A=1\n${"#".repeat(MAX_DOTENV_FILE_BYTES)}\n`);
    expect(theirs(join(base, "big.env"))).toBeNull();
    expect(readDotenvFile(join(base, "big.env"))).toMatchObject({ skipped: expect.stringMatching(/larger than 1048576 bytes/), values: {} });
    mkdirSync(join(base, "dir.env"));
    expect(theirs(join(base, "dir.env"))).toBeNull();
    expect(ours(join(base, "dir.env"))).toBeNull();
    expect(theirs(join(base, "missing.env"))).toBeNull();
    expect(readDotenvFile(join(base, "missing.env")).skipped).toBe("missing");
  });

  it("a symlinked .env is followed by both", () => {
    const base = fresh("link");
    writeFileSync(join(base, "real.env"), "A=through-link\n");
    symlinkSync(join(base, "real.env"), join(base, ".env"));
    expect(ours(join(base, ".env"))).toEqual(theirs(join(base, ".env")));
    expect(ours(join(base, ".env"))).toEqual({ A: "through-link" });
  });
});

describe("which files: the state dir and config path OpenClaw resolves from the environment", () => {
  let resolveConfigPath: (env: Env) => string;
  beforeAll(async () => {
    resolveConfigPath = await openclawFunction("paths", "resolveConfigPath");
  });

  // OPENCLAW_PROFILE is left out on purpose: clawfleet maps it to ~/.openclaw-<profile> for the
  // service label, while OpenClaw 2026.9.6 reads the profile only from --profile.
  const SHAPES: [string, (home: string) => Env][] = [
    ["the default", (home) => ({ HOME: home })],
    ["OPENCLAW_STATE_DIR with ~", (home) => ({ HOME: home, OPENCLAW_STATE_DIR: "~/state" })],
    ["OPENCLAW_STATE_DIR with blanks around it", () => ({ HOME: "/nowhere", OPENCLAW_STATE_DIR: "  /srv/oc  " })],
    ["a blank OPENCLAW_STATE_DIR is unset", (home) => ({ HOME: home, OPENCLAW_STATE_DIR: "  " })],
    ["OPENCLAW_CONFIG_PATH with ~ and blanks", (home) => ({ HOME: home, OPENCLAW_CONFIG_PATH: " ~/conf/oc.json " })],
    ["OPENCLAW_HOME instead of HOME", (home) => ({ HOME: "/nowhere", OPENCLAW_HOME: home })],
    ["OPENCLAW_HOME with ~ is under HOME", (home) => ({ HOME: home, OPENCLAW_HOME: "~/alt" })],
    ["OPENCLAW_HOME, and OPENCLAW_STATE_DIR with ~ under it", (home) => ({ HOME: "/nowhere", OPENCLAW_HOME: home, OPENCLAW_STATE_DIR: "~/st" })],
  ];

  it.each(SHAPES)("%s", (_name, envOf) => {
    const home = fresh("paths-home");
    mkdirSync(join(home, ".openclaw"));
    const env = envOf(home);
    const world = discoverOpenClaw(env);
    expect([world.stateDir, world.config.path]).toEqual([resolveStateDir(env), resolveConfigPath(env)]);
  });
});

describe(".env precedence: which files, in which order, over which environment", () => {
  /** The gateway's `gateway run` load (pre-bootstrap resolveGatewayRunDotEnvPaths), on a copy of env. */
  function openclawLoads(env: Env): Env {
    const copy = { ...env };
    const stateEnvPath = join(resolveStateDir(copy), ".env");
    const configEnvPath = join(resolveConfigDir(copy), ".env");
    loadGlobalRuntimeDotEnvFiles({ env: copy, quiet: true, stateEnvPath, ...(stateEnvPath === configEnvPath ? {} : { additionalEnvPaths: [configEnvPath] }) });
    return copy;
  }

  function oursLoads(env: Env, home: string): Env {
    const stateDir = env.OPENCLAW_STATE_DIR ? env.OPENCLAW_STATE_DIR : join(home, ".openclaw");
    return { ...loadOpenClawDotenv(env, home, stateDir).merged, ...env };
  }

  function world() {
    const home = fresh("home");
    mkdirSync(join(home, ".openclaw"));
    mkdirSync(join(home, ".config", "openclaw"), { recursive: true });
    mkdirSync(join(home, "elsewhere"));
    mkdirSync(join(home, "moved-state"));
    writeFileSync(join(home, ".openclaw", ".env"), "SHARED=state\nONLY_STATE=1\nOPENCLAW_GATEWAY_TOKEN=from-state-env\n");
    writeFileSync(join(home, ".config", "openclaw", "gateway.env"), "SHARED=gateway-env\nONLY_GATEWAY_ENV=1\nOPENAI_API_KEY=from-gateway-env\n");
    writeFileSync(join(home, "elsewhere", ".env"), "SHARED=config-dir\nONLY_CONFIG_DIR=1\n");
    writeFileSync(join(home, "moved-state", ".env"), "SHARED=moved\nONLY_MOVED=1\n");
    return home;
  }

  const SHAPES: [string, (home: string) => Env][] = [
    ["default state dir: state .env, then gateway.env", (home) => ({ HOME: home })],
    ["the shell wins over every file", (home) => ({ HOME: home, SHARED: "shell", OPENCLAW_GATEWAY_TOKEN: "shell-token" })],
    ["OPENCLAW_CONFIG_PATH elsewhere adds that directory's .env", (home) => ({ HOME: home, OPENCLAW_CONFIG_PATH: join(home, "elsewhere", "openclaw.json") })],
    ["OPENCLAW_STATE_DIR moved: no gateway.env", (home) => ({ HOME: home, OPENCLAW_STATE_DIR: join(home, "moved-state") })],
    ["OPENCLAW_STATE_DIR naming the default dir keeps gateway.env", (home) => ({ HOME: home, OPENCLAW_STATE_DIR: join(home, ".openclaw") })],
    ["OPENCLAW_STATE_DIR and OPENCLAW_CONFIG_PATH together", (home) => ({ HOME: home, OPENCLAW_STATE_DIR: join(home, "moved-state"), OPENCLAW_CONFIG_PATH: join(home, "elsewhere", "openclaw.json") })],
    ["an empty shell value is kept, not filled", (home) => ({ HOME: home, SHARED: "" })],
  ];

  it.each(SHAPES)("%s", (_name, envOf) => {
    const home = world();
    const env = envOf(home);
    expect(oursLoads(env, home)).toEqual(openclawLoads(env));
  });
});

describe("the gateway's environment: its own env over the .env files, and systemd's managed keys", () => {
  let readManagedSystemdServiceEnvKeysFromEnvironment: (env: Env, platform: string) => Set<string>;
  beforeAll(async () => {
    readManagedSystemdServiceEnvKeysFromEnvironment = await openclawFunction("service-managed-env", "readManagedSystemdServiceEnvKeysFromEnvironment");
  });

  const KEYS = ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENCLAW_GATEWAY_TOKEN", "ONLY_DOTENV"];
  const SYSTEMD = { INVOCATION_ID: "0123456789abcdef", OPENCLAW_SYSTEMD_UNIT: "openclaw-gateway.service" };
  const SHAPES: [string, Env][] = [
    ["the unit's value wins over .env", { OPENAI_API_KEY: "from-unit" }],
    ["under systemd, a managed key takes the .env value", { ...SYSTEMD, OPENAI_API_KEY: "from-unit", OPENCLAW_SERVICE_MANAGED_ENV_KEYS: "OPENAI_API_KEY,OPENCLAW_GATEWAY_TOKEN" }],
    ["managed keys compare upper-cased", { ...SYSTEMD, OPENAI_API_KEY: "from-unit", OPENCLAW_SERVICE_MANAGED_ENV_KEYS: " openai_api_key , x" }],
    ["managed keys without a systemd hint change nothing", { OPENAI_API_KEY: "from-unit", OPENCLAW_SERVICE_MANAGED_ENV_KEYS: "OPENAI_API_KEY" }],
    ["a managed key no .env sets keeps the unit's value", { ...SYSTEMD, ANTHROPIC_API_KEY: "from-unit", OPENCLAW_SERVICE_MANAGED_ENV_KEYS: "ANTHROPIC_API_KEY" }],
    ["a blank value in the unit hides the .env value", { OPENAI_API_KEY: "", OPENCLAW_GATEWAY_TOKEN: "  " }],
  ];

  it.each(SHAPES)("%s", (_name, unitEnv) => {
    const home = fresh("gw-home");
    mkdirSync(join(home, ".openclaw"));
    writeFileSync(join(home, ".openclaw", ".env"), "OPENAI_API_KEY=from-dotenv\nOPENCLAW_GATEWAY_TOKEN=token-from-dotenv\nONLY_DOTENV=yes\n");
    const processEnv = { HOME: home, ...unitEnv } as Record<string, string>;
    const theirsEnv: Env = { ...processEnv };
    loadGlobalRuntimeDotEnvFiles({ env: theirsEnv, quiet: true, stateEnvPath: join(home, ".openclaw", ".env"), overrideKeys: readManagedSystemdServiceEnvKeysFromEnvironment(theirsEnv, "linux") });
    const env = gatewayEnv({ stateDir: join(home, ".openclaw"), cliEnv: {}, processEnv, platform: "linux", dotenvFiles: loadOpenClawDotenv(processEnv, home, join(home, ".openclaw")).files });
    for (const key of KEYS) expect([key, lookupEnv(env, key)?.value]).toEqual([key, theirsEnv[key]?.trim() || undefined]);
  });
});

describe("openclaw.json $include: OpenClaw's resolveConfigIncludes against ours", () => {
  /** OpenClaw: JSON5 parse of the main file, then its include resolution; the value or the error message. */
  function openclawReads(configPath: string, text: string, env: Env = {}): { value?: unknown; error?: string } {
    try {
      return { value: resolveConfigIncludes(JSON5.parse(text), configPath, undefined, { allowedRoots: resolveIncludeRoots(env) }) };
    } catch (error) {
      return { error: (error as Error).message };
    }
  }

  function oursReads(configPath: string, env: Env = {}, home = "/nonexistent"): { value?: unknown; error?: string } {
    const file = readConfigFile(configPath, { env, home });
    return file.error ? { error: file.error.slice(`${configPath}: `.length) } : { value: file.raw };
  }

  function layout(files: Record<string, string>): string {
    const root = fresh("include");
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(root, name, ".."), { recursive: true });
      writeFileSync(join(root, name), text);
    }
    return root;
  }

  const chain = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`c${i}.json5`, i === n - 1 ? "{ end: true }" : `{ "$include": "./c${i + 1}.json5", level${i}: ${i} }`]));

  const CASES: [string, Record<string, string>][] = [
    ["a single include, relative path", { "cfg/openclaw.json": `{ "$include": "./gw.json5" }`, "cfg/gw.json5": `{ gateway: { port: 19001, auth: { token: "\${TOK}" } } }` }],
    ["an array of includes: objects merge, arrays concatenate, later primitives win", { "cfg/openclaw.json": `{ "$include": ["./a.json5", "./b.json5"] }`, "cfg/a.json5": `{ gateway: { port: 1, list: [1, 2] }, x: "a" }`, "cfg/b.json5": `{ gateway: { bind: "lan", list: [3] }, x: "b" }` }],
    ["sibling keys override the included object", { "cfg/openclaw.json": `{ gateway: { "$include": "./gw.json5", port: 2, auth: { mode: "token" } } }`, "cfg/gw.json5": `{ port: 1, auth: { token: "t", mode: "none" }, arr: [1] }` }],
    ["nested includes resolve relative to the including file", { "cfg/openclaw.json": `{ "$include": "./sub/one.json5" }`, "cfg/sub/one.json5": `{ "$include": "./deeper/two.json5", one: 1 }`, "cfg/sub/deeper/two.json5": `{ two: 2 }` }],
    ["an include inside an array element", { "cfg/openclaw.json": `{ agents: [{ "$include": "./agent.json5" }, { id: "b" }] }`, "cfg/agent.json5": `{ id: "a" }` }],
    ["a non-object include with siblings is an error", { "cfg/openclaw.json": `{ x: { "$include": "./list.json5", y: 1 } }`, "cfg/list.json5": `[1, 2]` }],
    ["a non-object include alone is its value", { "cfg/openclaw.json": `{ x: { "$include": "./list.json5" } }`, "cfg/list.json5": `[1, 2]` }],
    ["a cycle is an error", { "cfg/openclaw.json": `{ "$include": "./a.json5" }`, "cfg/a.json5": `{ "$include": "./b.json5" }`, "cfg/b.json5": `{ "$include": "./a.json5" }` }],
    ["including the main file is a cycle", { "cfg/openclaw.json": `{ x: { "$include": "./openclaw.json" } }` }],
    ["depth 10 is the limit", { "cfg/openclaw.json": `{ "$include": "./c0.json5" }`, ...Object.fromEntries(Object.entries(chain(11)).map(([k, v]) => [`cfg/${k}`, v])) }],
    ["depth 9 resolves", { "cfg/openclaw.json": `{ "$include": "./c0.json5" }`, ...Object.fromEntries(Object.entries(chain(9)).map(([k, v]) => [`cfg/${k}`, v])) }],
    ["escaping the config directory is refused", { "cfg/openclaw.json": `{ "$include": "../outside.json5" }`, "outside.json5": `{ secret: 1 }` }],
    ["a missing include is an error", { "cfg/openclaw.json": `{ "$include": "./nope.json5" }` }],
    ["an include that does not parse is an error", { "cfg/openclaw.json": `{ "$include": "./bad.json5" }`, "cfg/bad.json5": `{ unclosed: ` }],
    ["an invalid $include value", { "cfg/openclaw.json": `{ "$include": 42 }` }],
    ["an invalid $include array item", { "cfg/openclaw.json": `{ "$include": ["./a.json5", 7] }`, "cfg/a.json5": `{}` }],
    ["prototype keys are dropped on merge", { "cfg/openclaw.json": `{ "$include": ["./a.json5", "./b.json5"] }`, "cfg/a.json5": `{ constructor: { x: 1 }, ok: 1 }`, "cfg/b.json5": `{ prototype: 2, ok: 2 }` }],
    ["JSON5 syntax and a BOM in an included file", { "cfg/openclaw.json": `{ "$include": "./a.json5" }`, "cfg/a.json5": `\uFEFF{ // comment\n  a: 'single', b: +1, c: [1,], d: 0x10, }` }],
    ["strict JSON main file", { "cfg/openclaw.json": `{"$include": "./a.json", "z": [1]}`, "cfg/a.json": `{"z": [0], "y": null}` }],
  ];

  it.each(CASES)("%s", (_name, files) => {
    const root = layout(files);
    const configPath = join(root, "cfg", "openclaw.json");
    const expected = openclawReads(configPath, files["cfg/openclaw.json"]!);
    expect(oursReads(configPath)).toEqual(expected);
  });

  // Random include graphs: each file an object (or not) with keys, arrays, nested objects and
  // `$include`s of the others (cycles, siblings, arrays of targets, missing files).
  const target = fc.oneof({ weight: 5, arbitrary: fc.constantFrom('"./a.json5"', '"./b.json5"', '"./c.json5"', '"./sub/d.json5"', '"../cfg/sub/../b.json5"') }, { weight: 1, arbitrary: fc.constantFrom('"./missing.json5"', '"../escape.json5"', "7", '"./openclaw.json"') });
  const include = fc.oneof(target, fc.array(target, { minLength: 1, maxLength: 3 }).map((t) => `[${t.join(", ")}]`));
  const value = fc.letrec<{ value: string; object: string }>((tie) => ({
    value: fc.oneof({ depthSize: "small" }, fc.constantFrom("1", '"s"', "null", "true", "[1, 2]", '["x"]', "{}"), tie("object")),
    object: fc.array(fc.tuple(fc.constantFrom("gateway", "port", "list", "auth", "x", "constructor", '"$include"', '"$include"'), fc.oneof(tie("value"), include)), { maxLength: 4 })
      .map((entries) => `{ ${entries.map(([k, v]) => `${k}: ${v}`).join(", ")} }`),
  })).value;
  const file = fc.oneof({ weight: 4, arbitrary: value.filter((v) => v.startsWith("{")) }, { weight: 1, arbitrary: fc.constantFrom("[1]", '"text"', "{ broken") });

  it("random include graphs resolve (or fail) identically", () => {
    const seen = { resolved: 0, failed: 0 };
    fc.assert(
      fc.property(file, file, file, file, file, (main, a, b, c, d) => {
        const root = layout({ "cfg/openclaw.json": main, "cfg/a.json5": a, "cfg/b.json5": b, "cfg/c.json5": c, "cfg/sub/d.json5": d, "escape.json5": "{ out: 1 }" });
        const configPath = join(root, "cfg", "openclaw.json");
        let parsed: unknown;
        try {
          parsed = JSON5.parse(main);
        } catch {
          return; // the main file is not JSON5 at all: nothing to compare
        }
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return;
        const expected = openclawReads(configPath, main);
        const mine = oursReads(configPath);
        if (main.includes("$include")) seen[expected.error ? "failed" : "resolved"]++;
        if (expected.value !== undefined && (typeof expected.value !== "object" || expected.value === null || Array.isArray(expected.value))) {
          expect(mine.error).toMatch(/top level must be an object/);
        } else {
          expect(mine).toEqual(expected);
        }
      }),
      { numRuns: 300 },
    );
    // Both outcomes were exercised, not only the trivial one.
    expect(seen.resolved).toBeGreaterThan(10);
    expect(seen.failed).toBeGreaterThan(10);
  });

  it("a symlink out of the config directory is refused; OPENCLAW_INCLUDE_ROOTS lets it in", () => {
    const root = layout({ "cfg/openclaw.json": `{ "$include": "./shared.json5" }`, "shared/real.json5": `{ fromShared: true }` });
    symlinkSync(join(root, "shared", "real.json5"), join(root, "cfg", "shared.json5"));
    const configPath = join(root, "cfg", "openclaw.json");
    const text = `{ "$include": "./shared.json5" }`;
    expect(oursReads(configPath)).toEqual(openclawReads(configPath, text));
    expect(oursReads(configPath).error).toMatch(/resolves outside config directory \(symlink\)/);
    const env = { HOME: root, OPENCLAW_INCLUDE_ROOTS: `${join(root, "nowhere")}:${join(root, "shared")}` };
    expect(oursReads(configPath, env, root)).toEqual(openclawReads(configPath, text, env));
    expect(oursReads(configPath, env, root).value).toEqual({ fromShared: true });
  });

  it("an absolute include under OPENCLAW_INCLUDE_ROOTS (with ~) resolves; outside it does not", () => {
    const root = layout({ "cfg/openclaw.json": "{}", "shared/a.json5": `{ a: 1 }` });
    const configPath = join(root, "cfg", "openclaw.json");
    const text = `{ "$include": "${join(root, "shared", "a.json5")}" }`;
    writeFileSync(configPath, text);
    expect(oursReads(configPath)).toEqual(openclawReads(configPath, text));
    const env = { HOME: root, OPENCLAW_INCLUDE_ROOTS: "~/shared" };
    expect(oursReads(configPath, env, root)).toEqual(openclawReads(configPath, text, env));
    expect(oursReads(configPath, env, root).value).toEqual({ a: 1 });
  });

  it("a hard-linked include fails OpenClaw's security check in both", () => {
    const root = layout({ "cfg/openclaw.json": `{ "$include": "./a.json5" }`, "cfg/a.json5": `{ a: 1 }` });
    linkSync(join(root, "cfg", "a.json5"), join(root, "cfg", "a-link.json5"));
    const configPath = join(root, "cfg", "openclaw.json");
    expect(oursReads(configPath)).toEqual(openclawReads(configPath, `{ "$include": "./a.json5" }`));
    expect(oursReads(configPath).error).toMatch(/failed security checks/);
  });
});

describe("${VAR} substitution: OpenClaw's resolveConfigEnvVars against ours", () => {
  const WORDS = ["$", "$$", "{", "}", "${", "$${", "A", "B_1", "EMPTY", "UNSET", "a", "lower", "${A}", "$${A}", "$$${A}", "${B_1}", "${EMPTY}", "${UNSET}", "${lower}", "${A B}", "${}", "x", " ", "é", "${A}}", "{${A}}"];
  const ENV: Env = { A: "alpha", B_1: "b${A}", EMPTY: "", lower: "no" };

  it("substitutes, escapes and reports missing variables identically", () =>
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...WORDS), { maxLength: 20 }).map((parts) => parts.join("")), (text) => {
        const missing: string[] = [];
        const resolved = resolveConfigEnvVars({ v: text }, ENV, { onMissing: (w) => missing.push(w.varName) }) as { v: string };
        const mine = substituteEnv(text, ENV);
        expect(mine.value).toBe(resolved.v);
        expect(mine.missing).toEqual(missing);
      }),
      { numRuns: 500 },
    ));
});

describe("config env vars, applied before ${VAR} substitution: OpenClaw's applyConfigEnvVars against ours", () => {
  let applyConfigEnvVars: (cfg: unknown, env: Env) => void;
  beforeAll(async () => {
    applyConfigEnvVars = await openclawFunction("config-env-vars", "applyConfigEnvVars");
  });

  const CONFIGS: [string, Record<string, unknown>, Env][] = [
    ["env.vars fills an unset variable", { env: { vars: { GW: "from-config" } } }, {}],
    ["never over a set one", { env: { vars: { GW: "from-config" } } }, { GW: "from-shell" }],
    ["but over a blank one", { env: { vars: { GW: "from-config" } } }, { GW: "  " }],
    ["top-level env.X wins over env.vars.X", { env: { GW: "top", vars: { GW: "vars" } } }, {}],
    ["a value with a ${VAR} is not applied", { env: { vars: { GW: "${OTHER}" } } }, { OTHER: "x" }],
    ["blocked names are not applied", { env: { vars: { OPENCLAW_INCLUDE_ROOTS: "/x", GW: "ok" } } }, {}],
    ["non-portable names and blank values are not applied", { env: { vars: { "a-b": "1", GW: " " } } }, {}],
    ["shellEnv is not a variable", { env: { shellEnv: "yes", vars: { GW: "ok" } } }, {}],
  ];

  it.each(CONFIGS)("%s", (_name, config, env) => {
    const token = "${GW}-${OPENCLAW_INCLUDE_ROOTS}-${a}";
    const theirsEnv = { ...env };
    applyConfigEnvVars(config, theirsEnv);
    const missing: string[] = [];
    const expected = (resolveConfigEnvVars({ t: token }, theirsEnv, { onMissing: (w) => missing.push(w.varName) }) as { t: string }).t;
    const mine = substituteEnv(token, withConfigEnv(env, config));
    expect([mine.value, mine.missing]).toEqual([expected, missing]);
  });
});

describe("versions: OpenClaw's engines check and version order against ours (semver)", () => {
  const version = fc.tuple(fc.nat({ max: 30 }), fc.nat({ max: 20 }), fc.nat({ max: 20 })).map(([a, b, c]) => `${a}.${b}.${c}`);
  const clause = fc.tuple(version, fc.option(fc.oneof(fc.nat({ max: 30 }).map(String), version), { nil: undefined })).map(([min, upper]) => (upper === undefined ? `>=${min}` : `>=${min} <${upper}`));
  const range = fc.array(clause, { minLength: 1, maxLength: 3 }).map((clauses) => clauses.join(" || "));

  it("where OpenClaw's own engines parser gives an answer, semver gives the same one", () =>
    fc.assert(
      fc.property(version, range, (v, r) => {
        const theirsAnswer = nodeVersionSatisfiesEngine(v, r);
        if (theirsAnswer !== null) expect(satisfiesEngines(v, r)).toBe(theirsAnswer);
      }),
      { numRuns: 500 },
    ));

  it("the pinned package's own range and an unknown one", () => {
    const pinned = ">=24.16.0 <25 || >=26.1.0";
    for (const v of ["24.15.9", "24.16.0", "24.99.0", "25.0.0", "26.0.9", "26.1.0", "27.0.0"]) expect(satisfiesEngines(v, pinned)).toBe(nodeVersionSatisfiesEngine(v, pinned));
    expect(nodeVersionSatisfiesEngine("24.16.0", "node 24 please")).toBeNull();
    expect(satisfiesEngines("24.16.0", "node 24 please")).toBeUndefined();
  });

  const openclawVersion = fc.tuple(
    fc.constantFrom("2026", "2025", "1"),
    fc.nat({ max: 12 }),
    fc.nat({ max: 30 }),
    fc.constantFrom("", "-1", "-2", "-beta.1", "-beta.2", ".beta.1", ".beta", "-rc.1", "-0", "+build"),
  ).map(([y, m, p, s]) => `${y}.${m}.${p}${s}`);

  it("orders OpenClaw versions (corrections after releases, legacy .beta) as OpenClaw does", () =>
    fc.assert(
      fc.property(openclawVersion, openclawVersion, (a, b) => {
        const pa = semverParse(normalizeLegacyDotBetaVersion(a));
        const pb = semverParse(normalizeLegacyDotBetaVersion(b));
        expect(compareVersions(a, b)).toBe(pa && pb ? compareOpenClawSemver(pa, pb) : undefined);
      }),
      { numRuns: 500 },
    ));
});

describe("launchd service-env file: OpenClaw's own wrapper, run by /bin/sh, against parseShellEnv", () => {
  // Not dotenv: the LaunchAgent runs OpenClaw's wrapper, which `.`-sources the file in sh.
  // /bin/sh here is dash, on macOS bash in POSIX mode: literal assignments parse the same in both.
  let wrapper: string;
  let quote: (value: string) => string;
  beforeAll(async () => {
    const build = await openclawFunction<() => string>("launchd-service-files", "buildLaunchAgentEnvironmentWrapper");
    quote = await openclawFunction("launchd-plist", "quoteLaunchAgentEnvironmentValue");
    wrapper = join(fresh("wrapper"), "ai.openclaw.gateway-env-wrapper.sh");
    writeFileSync(wrapper, build(), { mode: 0o700 });
  });

  /** The environment the gateway would start with: the wrapper sources the file, then execs node to print its env. */
  function underSh(text: string, inherited: readonly string[] = []): Record<string, string> {
    const file = join(fresh("service-env"), "ai.openclaw.gateway.env");
    writeFileSync(file, text, { mode: 0o600 });
    const env = { PATH: "/usr/bin:/bin", ...Object.fromEntries(inherited.map((name) => [name, "from-the-plist"])) };
    const out = execFileSync("/bin/sh", [wrapper, file, process.execPath, "-e", "process.stdout.write(JSON.stringify(process.env))"], { env, encoding: "utf8" });
    const seen = JSON.parse(out) as Record<string, string>;
    for (const key of ["PATH", "PWD", "SHLVL", "_", "OLDPWD"]) delete seen[key];
    return seen;
  }

  const HAND_EDITED: Record<string, string> = {
    "OpenClaw's own quoting of quotes, newlines, $ and backslashes": [["A", "it's"], ["B", "two\nlines"], ["C", "$HOME `id` \\n"], ["D", "'"], ["E", ""]].map(([k, v]) => `export ${k}=${"'" + v!.replaceAll("'", "'\\''") + "'"}`).join("\n"),
    "plain words and escaped blanks": "A=plain\nB=a\\ b\nexport C=x\\\\y",
    "double quotes with the four escapes sh honours": 'A="say \\"hi\\" \\\\ \\$ \\` \\n stays"',
    "adjacent quoted parts": "export A='x'\"y\"z",
    "comments, blank lines, semicolons, several assignments and bare exports": "# note\n\nA=1 # trailing\nB=2; C=3\nD=4 E=5\nexport B E\nexport F=6 G",
    "a line continuation in a bare word": "A=one\\\ntwo",
    "CR before LF stays in the value": "A=1\r\nB='2'\r",
    "the same key twice: the last wins": "A=first\nexport A=second",
  };

  it.each(Object.entries(HAND_EDITED))("%s", (_name, body) => {
    const text = `${OPENCLAW_SERVICE_ENV_HEADER}\n${body}\n`;
    const parsed = parseShellEnv(text);
    expect(parsed.problems).toEqual([]);
    expect(parsed.values).toEqual(underSh(text));
    // A plain assignment replaces a variable the plist already put in the environment.
    const names = [...Object.keys(parsed.values), ...Object.keys(parsed.unexported ?? {})];
    expect({ ...parsed.unexported, ...parsed.values }).toEqual(underSh(text, names));
  });

  it("random values written with OpenClaw's quoting come back as sh reads them", () =>
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary", maxLength: 24 }).map((v) => v.replaceAll("\0", "")), { minLength: 1, maxLength: 40 }), (values) => {
        const text = [OPENCLAW_SERVICE_ENV_HEADER, ...values.map((v, i) => `export K${i}=${quote(v)}`), ""].join("\n");
        expect(parseShellEnv(text).values).toEqual(underSh(text));
      }),
      { numRuns: 8 },
    ));
});
