// launchd inputs: `launchctl print` output and LaunchAgent plists (XML,
// binary, garbage, invalid UTF-8, deeply nested, ~1 MB). The print parser
// never throws and stays linear; the plist reader never throws and names the
// file in every error, without quoting its content.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLaunchctlPrint, readLaunchAgentPlist } from "../../agent/platform/launchd.ts";
import { parseShellEnv } from "../../agent/discovery/dotenv-service-env.ts";
import { anyText, expectWithinBudget, expectWithinBudgetAsync, fixture, hugeFrom, hugeShapes, inputsFor, MB, mutationsOf, parsesOrFailsCleanly } from "./arbitraries.ts";

const printFixtures = ["launchctl-print-running.txt", "launchctl-print-crash-loop.txt"].map((f) => fixture(`macos/${f}`));
const PRINT_WORDS = ["gui/501/ai.openclaw.gateway = {\n", "\t", "state = ", "running", "pid = ", "48211", "runs = ", "last exit code = ", "78: EX_CONFIG", "last terminating signal = ", "Terminated: 15", "path = ", "program = ", "arguments = {\n", "environment = {\n", "default environment = {\n", "KEY => value\n", " => ", "}\n", "]\n", "[", "{", "\"", "\n", " = "];

describe("`launchctl print`", () => {
  it("never throws; numbers it returns are real integers", () =>
    fc.assert(
      fc.property(inputsFor(PRINT_WORDS, ...printFixtures), (text) => {
        const job = parsesOrFailsCleanly(text, () => parseLaunchctlPrint(text));
        for (const n of [job?.pid, job?.runs, job?.lastExitStatus]) if (n !== undefined) expect(Number.isSafeInteger(n)).toBe(true);
      }),
      { numRuns: 300 },
    ));

  it("finds a block however the blanks around `=`/`=>` fall", () =>
    fc.assert(
      fc.property(fc.constantFrom("", " ", "  ", "\t"), fc.constantFrom(" = ", " => ", "=", "=>", " =  "), fc.constantFrom("{", "["), (pad, arrow, open) => {
        const job = parseLaunchctlPrint(`gui/501/x = {\n\tstate = running\n\tenvironment${pad}${arrow}${open}\n\t\tA => 1\n\t${open === "{" ? "}" : "]"}\n}\n`);
        expect(job?.environment).toEqual({ A: "1" });
      }),
    ));

  it("stays linear on ~1 MB inputs", () => {
    for (const huge of hugeShapes(...printFixtures)) expectWithinBudget("parseLaunchctlPrint", huge, parseLaunchctlPrint);
    fc.assert(fc.property(hugeFrom(PRINT_WORDS, ...printFixtures), (huge) => void expectWithinBudget("parseLaunchctlPrint", huge, parseLaunchctlPrint)), { numRuns: 6, endOnFailure: true });
  });
});

describe("LaunchAgent plists read from disk", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-props-plist-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const templates = ["ai.openclaw.gateway.plist.template", "ai.openclaw.gateway.legacy-env.plist.template", "ai.openclaw.work.plist.template"].map((f) => fixture(`macos/${f}`).replaceAll("{{HOME}}", "/Users/mini").replaceAll("{{STATE_DIR}}", "/Users/mini/.openclaw"));
  const SECRET = "sk-secret-never-quoted";
  const bytes = fc.oneof(
    mutationsOf(...templates).map((t) => Buffer.from(t.replace("</dict>", `<key>T</key><string>${SECRET}</string></dict>`))),
    anyText.map((t) => Buffer.from(t)),
    fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.concat([Buffer.from("bplist00"), b])),
    fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
    fc.nat({ max: 10_000 }).map((depth) => Buffer.from(`<?xml version="1.0"?><plist version="1.0">${"<array>".repeat(depth)}${"</array>".repeat(depth)}</plist>`)),
    fc.nat({ max: 10_000 }).map((depth) => Buffer.from(`<plist version="1.0"><dict>${"<key>a</key><dict>".repeat(depth)}${"</dict>".repeat(depth)}</dict></plist>`)),
  );

  it("never throws; every failure names the file and never quotes a value", async () => {
    const path = join(dir, "ai.openclaw.gateway.plist");
    await fc.assert(
      fc.asyncProperty(bytes, async (content) => {
        writeFileSync(path, content);
        const result = await readLaunchAgentPlist(path);
        if (!result.ok) {
          expect(result.error).toContain(path);
          expect(result.error).not.toContain(SECRET);
        } else {
          expect(result.plist.programArguments.length).toBeGreaterThan(0);
          for (const value of Object.values(result.plist.environmentVariables)) expect(typeof value).toBe("string");
        }
      }),
      { numRuns: 80 },
    );
  });

  it("reads a ~1 MB plist within the budget", async () => {
    const path = join(dir, "big.plist");
    const template = templates[0]!;
    const huge = {
      label: "a plist with one huge EnvironmentVariables string",
      build: (size: number) => template.replace("</dict>", `<key>BIG</key><string>${"x".repeat(size)}</string></dict>`),
    };
    await expectWithinBudgetAsync("readLaunchAgentPlist", huge, async (text) => {
      writeFileSync(path, text);
      return readLaunchAgentPlist(path);
    });
    expect(huge.build(MB).length).toBeGreaterThan(MB);
  });
});

describe("OpenClaw's service env file (`export KEY='value'` shell)", () => {
  const SHELL_WORDS = ["# Generated by OpenClaw. Do not edit while the gateway service is installed.\n", "export ", "KEY", "=", "'", "'\\''", '"', "\\", "$", "`", "\n", ";", " ", "\t", "value", "#"];

  it("never throws; problems name a line and never a value", () =>
    fc.assert(
      fc.property(inputsFor(SHELL_WORDS), (text) => {
        const parsed = parsesOrFailsCleanly(text, () => parseShellEnv(text))!;
        for (const p of parsed.problems) expect(p).toMatch(/^line \d+: /);
      }),
      { numRuns: 300 },
    ));

  it("reads back what OpenClaw writes: export KEY='value' with '\\'' for each quote, values across lines", () =>
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/), fc.string({ unit: "binary", maxLength: 20 })), { maxLength: 6 }), (pairs) => {
        // buildLaunchAgentEnvironmentFile: `export ${key}='${value.replaceAll("'", "'\\''")}'`, one per line, after the header.
        const text = ["# Generated by OpenClaw. Do not edit while the gateway service is installed.", ...pairs.map(([k, v]) => `export ${k}='${v.replaceAll("'", "'\\''")}'`)].join("\n");
        const expected: Record<string, string> = {};
        for (const [k, v] of pairs) expected[k] = v;
        const parsed = parseShellEnv(text);
        expect(parsed.values).toEqual(expected);
        expect(parsed.headerValid).toBe(true);
        expect(parsed.problems).toEqual([]);
      }),
      { numRuns: 300 },
    ));

  it("stays linear on ~1 MB inputs", () => {
    for (const huge of hugeShapes()) expectWithinBudget("parseShellEnv", huge, parseShellEnv);
    fc.assert(fc.property(hugeFrom(SHELL_WORDS), (huge) => void expectWithinBudget("parseShellEnv", huge, parseShellEnv)), { numRuns: 6, endOnFailure: true });
  });
});
