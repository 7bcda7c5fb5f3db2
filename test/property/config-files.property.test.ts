// Config and credential inputs: openclaw.json (JSON5, ${VAR}, SecretRefs),
// ~/.openclaw/.env (parity with the `dotenv` package OpenClaw loads it with),
// the auth stores' SQLite rows and JSON columns, the advisories file, and the
// duration and HOST:PORT flags. They never throw unexpectedly, fail with an
// error naming the file or flag, survive deep nesting, and stay linear.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import fc from "fast-check";
import JSON5 from "json5";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAdvisories } from "../../agent/discovery/advisories.ts";
import { parseStoreJson, readAgentStore, readSharedStore } from "../../agent/discovery/auth-store.ts";
import { configValue, readConfigFile, referencedVariables, resolveSecret } from "../../agent/discovery/openclaw-config.ts";
import { parseDotenv, parseDotenvLinear } from "../../agent/discovery/openclaw-dotenv.ts";
import { formatAddress, parseAddress, UsageError } from "../../shared/cli.ts";
import { parseDuration } from "../../shared/duration.ts";
import { anyText, deeplyNestedJson, expectWithinBudget, hugeFrom, hugeShapes, inputsFor, MB, parsesOrFailsCleanly, textFrom } from "./arbitraries.ts";

/**
 * dotenv 17.4.2's parse() (lib/main.js, BSD-2-Clause), verbatim but for
 * types: what OpenClaw loads ~/.openclaw/.env with. Kept here so the parity
 * property runs without the pinned gateway install; the installed package is
 * compared against this copy whenever it is present.
 */
function dotenv17Parse(src: string): Record<string, string> {
  const LINE = /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/gm;
  const obj: Record<string, string> = {};
  const lines = src.toString().replace(/\r\n?/gm, "\n");
  let match: RegExpExecArray | null;
  while ((match = LINE.exec(lines)) != null) {
    const key = match[1]!;
    let value = (match[2] || "").trim();
    const maybeQuote = value[0];
    value = value.replace(/^(['"`])([\s\S]*)\1$/gm, "$2");
    if (maybeQuote === '"') value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
    obj[key] = value;
  }
  return obj;
}

/** The installed dotenv, when the pinned gateway install (test/openclaw) is there. */
function installedDotenv(): ((text: string) => Record<string, string>) | undefined {
  try {
    const require = createRequire(join(import.meta.dirname, "../openclaw/node_modules/openclaw/package.json"));
    const dotenv = require("dotenv") as { parse(text: string): Record<string, string>; version?: string };
    return (text) => dotenv.parse(text);
  } catch {
    return undefined;
  }
}

/** OpenClaw keeps only portable names from dotenv's result (normalizeEnvVarKey with portable: true). */
function openclawDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(dotenv17Parse(text))) if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key.trim())) out[key.trim()] = value;
  return out;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "clawfleet-props-config-"));
  // What a random `$include` may land on: a real include, and (via "./openclaw.json") a cycle.
  writeFileSync(join(dir, "inc.json5"), `{ included: [1], gateway: { port: 1, auth: { token: "\${X}" } } }`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const JSON5_WORDS = ["{", "}", "[", "]", ",", ":", "gateway", "auth", "token", '"${OPENCLAW_GATEWAY_TOKEN}"', '"$${X}"', "'x'", '{source:"env",id:"TOKEN"}', '{source:"exec",id:"x"}', "// c\n", "/* c */", "1e999", "-Infinity", "NaN", "0x1F", "null", "true", "\n", '"$include"', '"./openclaw.json"', '"./inc.json5"', '"../x"', '"/etc/passwd"', '["./inc.json5"]', '"\\u0000"'];
const CONFIG_TEMPLATE = `{
  // openclaw.json as the CLI writes it, with the forms people add by hand
  gateway: { port: 18789, auth: { mode: "token", token: "\${OPENCLAW_GATEWAY_TOKEN}" }, tailscale: { mode: "serve" } },
  models: { providers: { anthropic: { apiKey: { source: "env", id: "ANTHROPIC_API_KEY" } } } },
  agents: { list: [{ id: "main", model: "anthropic/claude-x" }], defaults: { literal: "$\${NOT_A_VAR}" } },
}`;

describe("openclaw.json", () => {
  const path = () => join(dir, "openclaw.json");

  it("never throws; a failure names the file; everything read from it resolves without a throw", () =>
    fc.assert(
      fc.property(inputsFor(JSON5_WORDS, CONFIG_TEMPLATE), fc.dictionary(fc.constantFrom("OPENCLAW_GATEWAY_TOKEN", "ANTHROPIC_API_KEY", "TOKEN", "X"), fc.string({ maxLength: 8 })), (text, env) => {
        writeFileSync(path(), text);
        const file = parsesOrFailsCleanly(text, () => readConfigFile(path()))!;
        if (file.error) expect(file.error.startsWith(`${path()}: `)).toBe(true);
        const vars = parsesOrFailsCleanly(text, () => referencedVariables(file.raw));
        for (const v of vars!) expect(typeof v).toBe("string");
        for (const dotted of ["gateway.auth.token", "models.providers.anthropic.apiKey", "a.b.c"]) parsesOrFailsCleanly(text, () => resolveSecret(configValue(file.raw, dotted), env));
      }),
      { numRuns: 250 },
    ));

  it("deeply nested (depth 10,000 and a 1 MB nest) and huge files: no stack overflow, a clear error or a value", () => {
    for (const text of [deeplyNestedJson(10_000, "array"), deeplyNestedJson(10_000, "object"), `{a:${deeplyNestedJson(300_000, "array")}}`, `{a:[${"1,".repeat(300_000)}1]}`, `{a:"${"x".repeat(MB)}"}`]) {
      writeFileSync(path(), text);
      // What OpenClaw's own parse of the text costs on this machine right now: ours may add
      // the strict-JSON attempt and a walk, never a blow-up (a loaded CI box slows both alike).
      const parseStarted = performance.now();
      try {
        JSON5.parse(text);
      } catch {
        // a refusal costs what it costs
      }
      const parseMs = performance.now() - parseStarted;
      const started = performance.now();
      const file = parsesOrFailsCleanly(text, () => readConfigFile(path()))!;
      expect(file.raw !== undefined || file.error?.startsWith(path())).toBe(true);
      parsesOrFailsCleanly(text, () => referencedVariables(file.raw));
      expect(performance.now() - started).toBeLessThan(3000 + 4 * parseMs);
    }
  });

  it("${VAR} substitution: any value put in the environment comes back verbatim; $${VAR} stays literal", () =>
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 30 }), fc.string({ unit: "binary", maxLength: 30 }).filter((v) => v !== ""), (before, value) => {
        const resolved = resolveSecret(`${before}\${TOKEN}$\${TOKEN}`, { TOKEN: value });
        const literal = resolveSecret(before, {});
        expect(resolved?.value).toBe(`${literal?.value ?? before}${value}\${TOKEN}`);
      }),
      { numRuns: 200 },
    ));
});

describe("~/.openclaw/.env", () => {
  const DOTENV_WORDS = ["A", "B_1", "a.b", "x-y", "export ", "=", ": ", " ", "\t", "\n", "\r\n", "\r", "'", '"', "`", "\\n", "\\'", '\\"', "#", " #", "value", "\u2028", "\0"];

  it("reads what OpenClaw's dotenv reads, on random files and on .env-shaped ones", () =>
    fc.assert(
      fc.property(fc.oneof(anyText, textFrom(DOTENV_WORDS, 40)), (text) => {
        expect(parseDotenv(text)).toEqual(openclawDotenv(text));
        // The line-anchored twin parseDotenv switches to on blank-line runs finds exactly what dotenv finds.
        expect(parseDotenvLinear(text)).toEqual(dotenv17Parse(text));
      }),
      { numRuns: 300 },
    ));

  const installed = installedDotenv();
  it.skipIf(!installed)("the copy of dotenv's parse above is the installed package's (needs test/openclaw installed)", () =>
    fc.assert(
      fc.property(fc.oneof(anyText, textFrom(DOTENV_WORDS, 40)), (text) => {
        expect(dotenv17Parse(text)).toEqual(installed!(text));
      }),
      { numRuns: 300 },
    ));

  it("stays linear on ~1 MB inputs (dotenv itself is quadratic on a run of blank lines before a line)", () => {
    for (const huge of hugeShapes()) expectWithinBudget("parseDotenv", huge, parseDotenv);
    expectWithinBudget("parseDotenv", { label: "blank lines, then a key", build: (size) => `${"\n".repeat(size)}A=1` }, parseDotenv);
    fc.assert(fc.property(hugeFrom(DOTENV_WORDS), (huge) => void expectWithinBudget("parseDotenv", huge, parseDotenv)), { numRuns: 6, endOnFailure: true });
  });
});

describe("auth stores (SQLite rows, JSON columns)", () => {
  const AGENT_SCHEMA = `CREATE TABLE auth_profile_store (store_key TEXT NOT NULL PRIMARY KEY, store_json TEXT NOT NULL, updated_at INTEGER NOT NULL);
    CREATE TABLE auth_profile_state (state_key TEXT NOT NULL PRIMARY KEY, state_json TEXT NOT NULL, updated_at INTEGER NOT NULL);`;
  const STATE_SCHEMA = "CREATE TABLE config_machine_state (state_key TEXT NOT NULL PRIMARY KEY, value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL);";
  const profile = fc.record(
    {
      type: fc.oneof(fc.constantFrom("api_key", "apiKey", "token", "oauth", "x"), anyText),
      mode: fc.constantFrom("api_key", "token"),
      provider: fc.oneof(fc.constantFrom("anthropic", " OpenAI ", "", "__proto__"), anyText),
      key: fc.oneof(anyText, fc.constant(`openclaw onboard${" ".repeat(5000)}x`), fc.constant({ source: "env", id: "K" }), fc.jsonValue({ maxDepth: 2 })),
      token: fc.oneof(anyText, fc.jsonValue({ maxDepth: 2 })),
      access: fc.oneof(anyText, fc.constant(`openclaw-oauth-refresh-fence:v1:${"a".repeat(32)}:access:${"b".repeat(64)}`)),
      refresh: anyText,
      expires: fc.oneof(fc.constantFrom(1, 0, -1, Number.MAX_VALUE, 1e308), fc.jsonValue({ maxDepth: 1 })),
      setup: fc.jsonValue({ maxDepth: 2 }),
      keyRef: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  );
  const storeJson = fc.oneof(
    fc.record({ version: fc.constant(1), profiles: fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(profile, fc.jsonValue({ maxDepth: 2 })), { maxKeys: 5 }), order: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: ["profiles"] }).map((v) => JSON.stringify(v)),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    anyText,
    fc.constant(`{"profiles":${deeplyNestedJson(10_000, "object")}}`),
  );

  it("an agent store never throws; it is ok, missing or unreadable with a reason", () =>
    fc.assert(
      fc.property(storeJson, fc.option(storeJson), fc.integer({ min: 0, max: 1_000_000 }), (store, state, n) => {
        const agentDir = join(dir, `agent-${n}-${Math.random().toString(36).slice(2)}`);
        mkdirSync(agentDir, { recursive: true });
        const db = new DatabaseSync(join(agentDir, "openclaw-agent.sqlite"));
        db.exec(AGENT_SCHEMA);
        db.prepare("INSERT INTO auth_profile_store VALUES ('primary', ?, 0)").run(store);
        if (state !== null) db.prepare("INSERT INTO auth_profile_state VALUES ('primary', ?, 0)").run(state);
        db.close();
        const read = parsesOrFailsCleanly(store, () => readAgentStore(agentDir))!;
        if (read.status !== "ok") expect(read.reason).toBeTruthy();
        for (const p of Object.values(read.profiles)) expect(["api_key", "token", "oauth"]).toContain(p.type);
        rmSync(agentDir, { recursive: true, force: true });
      }),
      { numRuns: 150 },
    ));

  it("the shared store's ownership row and a garbage database file never throw", () =>
    fc.assert(
      fc.property(fc.oneof(anyText, fc.jsonValue().map((v) => JSON.stringify(v))), fc.uint8Array({ maxLength: 2000 }), (ownership, garbage) => {
        const stateDir = join(dir, `state-${Math.random().toString(36).slice(2)}`);
        mkdirSync(join(stateDir, "state"), { recursive: true });
        const db = new DatabaseSync(join(stateDir, "state", "openclaw.sqlite"));
        db.exec(STATE_SCHEMA);
        db.prepare("INSERT INTO config_machine_state VALUES ('auth.sharedStore', ?, 0)").run(ownership);
        db.close();
        const shared = parsesOrFailsCleanly(ownership, () => readSharedStore(stateDir, {}))!;
        if (shared.status === "unreadable") expect(shared.reason).toBeTruthy();
        writeFileSync(join(stateDir, "state", "openclaw.sqlite"), Buffer.concat([Buffer.from("SQLite format 3\0"), garbage]));
        const broken = parsesOrFailsCleanly("garbage", () => readSharedStore(stateDir, {}))!;
        expect(["ok", "missing", "unreadable"]).toContain(broken.status);
        rmSync(stateDir, { recursive: true, force: true });
      }),
      { numRuns: 100 },
    ));
});

describe("auth store keys stay linear", () => {
  it("a ~1 MB api key that starts like a pasted `openclaw onboard` command", () => {
    const parse = (key: string) => parseStoreJson({ profiles: { a: { type: "api_key", provider: "anthropic", key } } }, "/p");
    expectWithinBudget("parseStoreJson", { label: "openclaw onboard + blanks", build: (size) => `openclaw onboard${" ".repeat(size)}x` }, parse);
    expect(parse("openclaw onboard --auth-choice apiKey")?.profiles.a?.unusableReason).toMatch(/openclaw onboard/);
    expect(parse("openclaw  onboard\t--flag x --auth-choice=token")?.profiles.a?.unusableReason).toMatch(/openclaw onboard/);
    expect(parse("sk-ant-openclaw onboard --auth-choice")?.profiles.a?.unusableReason).toBeUndefined();
  });
});

describe("advisories file", () => {
  const entry = fc.record({ id: fc.oneof(fc.string(), fc.jsonValue()), title: fc.oneof(fc.string(), fc.jsonValue()), affectedUpTo: fc.oneof(fc.string(), fc.jsonValue()), fixedIn: fc.string(), sources: fc.oneof(fc.array(fc.string()), fc.jsonValue()) }, { requiredKeys: [] });
  const files = fc.oneof(anyText, fc.jsonValue().map((v) => JSON.stringify(v)), fc.record({ advisories: fc.oneof(fc.array(fc.oneof(entry, fc.jsonValue())), fc.jsonValue()) }).map((v) => JSON.stringify(v)), fc.constant(deeplyNestedJson(10_000, "array")));

  it("parses or throws an Error naming the file, never a TypeError", () =>
    fc.assert(
      fc.property(files, (text) => {
        const advisories = parsesOrFailsCleanly(text, () => parseAdvisories(text, "/etc/clawfleet/advisories.json"), (e) => e.message.startsWith("/etc/clawfleet/advisories.json: "));
        for (const a of advisories ?? []) {
          expect(typeof a.id).toBe("string");
          expect(Array.isArray(a.sources)).toBe(true);
        }
      }),
      { numRuns: 300 },
    ));
});

describe("flags: durations and HOST:PORT", () => {
  const DURATION_WORDS = ["1", "30", "500", "1.5", ".", "ms", "s", "m", "h", "d", "9".repeat(400), "-", " ", "e9"];

  it("parseDuration returns a finite number or throws an Error quoting (a bounded piece of) the input", () =>
    fc.assert(
      fc.property(inputsFor(DURATION_WORDS), (text) => {
        const ms = parsesOrFailsCleanly(text, () => parseDuration(text), (e) => e.message.startsWith(JSON.stringify(text.slice(0, 40)).slice(0, -1)) && e.message.length < 200);
        if (ms !== undefined) expect(Number.isFinite(ms) && ms >= 0).toBe(true);
      }),
      { numRuns: 300 },
    ));

  it("parseDuration adds up its parts", () =>
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 10_000 }), fc.constantFrom(["ms", 1], ["s", 1000], ["m", 60_000], ["h", 3_600_000], ["d", 86_400_000] as const)), { minLength: 1, maxLength: 5 }), (parts) => {
        expect(parseDuration(parts.map(([n, [unit]]) => `${n}${unit}`).join(""))).toBe(parts.reduce((sum, [n, [, ms]]) => sum + n * ms, 0));
      }),
    ));

  it("parseAddress: formatAddress round-trips, and anything else is a UsageError naming the flag", () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain()), fc.integer({ min: 0, max: 65535 }), (host, port) => {
        expect(parseAddress("collector", formatAddress(host, port))).toEqual({ host, port });
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(inputsFor(["127.0.0.1", ":", "[", "]", "::1", "4317", "99999", "host"]), (text) => {
        parsesOrFailsCleanly(text, () => parseAddress("collector", text), (e) => e instanceof UsageError && e.message.startsWith("--collector "));
      }),
      { numRuns: 300 },
    );
  });

  it("both stay linear on ~1 MB inputs", () => {
    for (const huge of hugeShapes()) {
      expectWithinBudget("parseDuration", huge, parseDuration);
      expectWithinBudget("parseAddress", huge, (t) => parseAddress("collector", t));
    }
    fc.assert(fc.property(hugeFrom(DURATION_WORDS), (huge) => void expectWithinBudget("parseDuration", huge, parseDuration)), { numRuns: 6, endOnFailure: true });
  });
});
