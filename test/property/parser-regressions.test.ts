// The minimal counterexamples the parser property tests found, one per defect,
// as plain unit tests: each failed (threw, hung or answered wrongly) before
// its fix. Time limits are generous (a busy shared machine); the broken
// versions took tens of seconds to minutes on the same inputs.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { parseAdvisories } from "../../agent/discovery/advisories.ts";
import { parseStoreJson } from "../../agent/discovery/auth-store.ts";
import { referencedVariables } from "../../agent/discovery/openclaw-config.ts";
import { parseDotenv } from "../../agent/discovery/openclaw-dotenv.ts";
import { checkStatus } from "../../agent/discovery/tailscale-json.ts";
import { keyExpired } from "../../agent/discovery/tailscale-localapi.ts";
import { parseShellEnv } from "../../agent/discovery/dotenv-service-env.ts";
import { globMatch } from "../../shared/glob-match.ts";
import { parseLaunchctlPrint, readLaunchAgentPlist } from "../../agent/platform/launchd.ts";
import { decodeAddress, listeningSockets } from "../../agent/platform/linux-procfs.ts";
import { parsePmsetSettings, parseSleepWakeSysctl } from "../../agent/platform/pmset.ts";
import { evaluateDirectives } from "../../agent/discovery/systemd-service.ts";
import { parseEnvironmentDirective, parseShowEnvironmentFiles, parseShowExecStart, parseUnitFile, splitQuotedWords } from "../../agent/platform/systemd.ts";
import { parseDuration } from "../../shared/duration.ts";

const ctx = { unitName: "x.service", home: "/home/oc", uid: 1000 };
const BLANKS = " ".repeat(200_000);

/** Runs `f` and fails if it took longer than `ms`. */
function fast<T>(ms: number, f: () => T): T {
  const started = performance.now();
  const result = f();
  expect(performance.now() - started).toBeLessThan(ms);
  return result;
}

describe("crashes", () => {
  it("a systemd \\U escape beyond Unicode is taken literally, not a RangeError", () => {
    expect(splitQuotedWords("\\UFFFFFFFF")).toEqual(["UFFFFFFFF"]);
    expect(parseEnvironmentDirective('"A=\\UFFFFFFFF"', ctx)).toEqual([["A", "UFFFFFFFF"]]);
    expect(splitQuotedWords("\\U0001F600")).toEqual(["\u{1F600}"]);
  });

  it("a /proc/net/tcp line with an empty or odd-length address is skipped, not a TypeError", async () => {
    expect(decodeAddress("")).toBeUndefined();
    expect(decodeAddress("0100007")).toBeUndefined();
    const root = mkdtempSync(join(tmpdir(), "clawfleet-regress-proc-"));
    try {
      mkdirSync(join(root, "net"));
      writeFileSync(join(root, "net", "tcp"), "  sl  local_address\n   0: :4965 00000000:0000 0A 0 0 0 501 0 41001\n   1: 0100007F:4965 00000000:0000 0A 0 0 0 501 0 41002\n");
      expect(await listeningSockets(0x4965, root)).toEqual([{ inode: "41002", address: "127.0.0.1", port: 0x4965 }]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("an openclaw.json nested 10,000 objects deep is walked without a stack overflow", () => {
    let deep: unknown = { source: "env", id: "DEEP" };
    for (let i = 0; i < 10_000; i++) deep = { a: deep };
    expect(referencedVariables(deep)).toEqual(["DEEP"]);
    expect(referencedVariables({ list: Array.from({ length: 300_000 }, () => "${BIG}") })).toEqual(["BIG"]);
  });

  it("a Tailscale status with Health as a string is refused naming the field, not a TypeError in the check", () => {
    expect(checkStatus({ BackendState: "NeedsLogin", Health: "key expired" })).toEqual({ error: "status.Health is a string, not a list of strings" });
  });

  it("an advisories file that is null, has a null entry, or is not JSON fails with an Error naming the file", () => {
    expect(() => parseAdvisories("null", "/x.json")).toThrow(/^\/x\.json: "advisories" must be a list$/);
    expect(() => parseAdvisories('{"advisories":[null]}', "/x.json")).toThrow(/^\/x\.json: advisories\[0\] must be an object$/);
    expect(() => parseAdvisories("{", "/x.json")).toThrow(/^\/x\.json: not valid JSON/);
    expect(() => parseAdvisories('{"advisories":[{"id":"a","affectedUpTo":"1","fixedIn":"2","sources":"x"}]}', "/x.json")).toThrow(/sources must be a list of strings/);
  });

  it("a 400-digit duration is refused (it was Infinity ms); the message quotes at most 40 characters", () => {
    expect(() => parseDuration(`${"9".repeat(400)}s`)).toThrow(/^"9{40}…" is too long a duration$/);
    expect(() => parseDuration("9".repeat(400))).toThrow(/^"9{40}…" is not a duration/);
    expect(parseDuration("1m30s")).toBe(90_000);
  });
});

describe("hangs (quadratic regexes and loops)", () => {
  it("`pmset -g`: a long blank run between a name and its value", () => {
    expect(fast(2000, () => parsePmsetSettings(`Currently in use:\n a${BLANKS}b c\n`)).settings).toEqual({ [`a${BLANKS}b`]: "c" });
    fast(2000, () => parsePmsetSettings(`Currently in use:\n sleep 1${BLANKS}x\n`));
  });

  it("sysctl: trailing blanks after a long line", () => {
    expect(fast(2000, () => parseSleepWakeSysctl(`kern.wakereason: a${BLANKS}b\n`)).wakeReason).toBe(`a${BLANKS}b`);
  });

  it("`systemctl show`: EnvironmentFiles= with a blank run, ExecStart= with a repeated separator", () => {
    expect(fast(2000, () => parseShowEnvironmentFiles([`/a${BLANKS}b (ignore_errors=yes)`]))).toEqual([{ path: `/a${BLANKS}b`, optional: true }]);
    expect(fast(2000, () => parseShowExecStart(`{ path=/bin/x${" ; argv[]=".repeat(50_000)}`))).toBeUndefined();
  });

  it("unit files: 100,000 continuation lines, and 50,000 distinct Environment= names", () => {
    const parsed = fast(2000, () => parseUnitFile(`[Service]\nExecStart=/bin/x \\\n${"a \\\n".repeat(100_000)}b\n`, "/u"));
    expect(parsed.directives[0]!.value.split(/\s+/).length).toBe(100_002);
    const lines = Array.from({ length: 50_000 }, (_, i) => `Environment=A${i}=1`);
    const unit = fast(2000, () => evaluateDirectives(parseUnitFile(`[Service]\n${lines.join("\n")}\n`, "/u").directives, ctx));
    expect(unit.environment.length).toBe(50_000);
  });

  it("EnvironmentFile= globs: *a*a*a… against a long name, and an unclosed [", () => {
    expect(fast(2000, () => globMatch(`${"*a".repeat(40)}*b`, "a".repeat(255)))).toBe(false);
    expect(globMatch("gateway[.env", "gateway[.env")).toBe(true);
    expect(globMatch("*.env", ".env")).toBe(true);
    expect(globMatch("[!a]x", "bx")).toBe(true);
  });

  it("`launchctl print`: a blank run before a block's `{`, a long digit run in a signal", () => {
    fast(2000, () => parseLaunchctlPrint(`gui/501/x = {\n\tstate = running\n\ta${BLANKS}b {\n\t}\n}\n`));
    const job = fast(2000, () => parseLaunchctlPrint(`gui/501/x = {\n\tstate = running\n\tlast terminating signal = ${"1".repeat(200_000)}x\n}\n`));
    expect(job?.lastExitStatus).toBeUndefined();
  });

  it(".env: a blank run in a value, and blank lines before a key (dotenv itself takes minutes on 1 MB of those)", () => {
    expect(fast(2000, () => parseDotenv(`A=x${BLANKS}y`))).toEqual({ A: `x${BLANKS}y` });
    expect(fast(2000, () => parseDotenv(`${"\n".repeat(200_000)}A=1`))).toEqual({ A: "1" });
  });

  it("Tailscale health: a message repeating `key`", () => {
    expect(fast(2000, () => keyExpired({ BackendState: "NeedsLogin", Health: ["key ".repeat(100_000)] }))).toBe(false);
  });

  it("auth store: a key starting `openclaw onboard` then a long blank run", () => {
    fast(2000, () => parseStoreJson({ profiles: { a: { type: "api_key", provider: "x", key: `openclaw onboard${BLANKS}x` } } }, "/p"));
  });

  it("durations: a long run of digits", () => {
    expect(() => fast(2000, () => parseDuration("1".repeat(200_000)))).toThrow(/is not a duration/);
  });

  it("service env file: a million malformed lines yield 20 problems and a count, quickly", () => {
    const parsed = fast(2000, () => parseShellEnv("\\\n".repeat(500_000)));
    expect(parsed.problems.length).toBe(21);
    expect(parsed.problems.at(-1)).toBe("…and 499980 more");
  });
});

describe("wrong answers", () => {
  it("IPv6 compression picks the first of two equally long zero runs (RFC 5952)", () => {
    expect(decodeAddress("00000000000000010000000100010000")).toBe("::100:0:100:0:0:100");
  });

  it(".env values read as OpenClaw's dotenv reads them", () => {
    expect(parseDotenv("A: \nB=b#c\nC=\"x\\ny\"\nD='multi\nline'\nE=`tick`\n")).toEqual({ A: "", B: "b", C: "x\ny", D: "multi\nline", E: "tick" });
  });

  it("a malformed plist does not print its content (a token) to the console", async () => {
    const dir = mkdtempSync(join(tmpdir(), "clawfleet-regress-plist-"));
    const spy = vi.spyOn(console, "error");
    try {
      const path = join(dir, "x.plist");
      writeFileSync(path, "<plist><dict></dict></plist>sk-ant-SECRET-in-a-broken-plist");
      const result = await readLaunchAgentPlist(path);
      expect(result.ok).toBe(false);
      expect(spy).not.toHaveBeenCalled();
      expect(JSON.stringify(result)).not.toContain("SECRET");
    } finally {
      spy.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
