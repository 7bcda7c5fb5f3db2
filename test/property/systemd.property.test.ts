// systemd parsers: `systemctl show` output, unit files and their directives,
// the word splitter, EnvironmentFile= contents and EnvironmentFile= globs, on
// random text, mutated recordings and ~1 MB inputs. They never throw, stay
// linear, and keep their invariants: quoted words split back to themselves,
// assignments written in EnvironmentFile syntax read back to themselves, and
// the rewritten matchers agree with the regexes they replaced on small inputs.
// Then the whole unit discovery, through the production runner and real files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discoverGatewayServices } from "../../agent/discovery/find-gateway-service.ts";
import { replayRunner } from "../../agent/platform/command-runner.ts";
import { globMatch } from "../../shared/glob-match.ts";
import { evaluateDirectives } from "../../agent/discovery/systemd-service.ts";
import {
  parseEnvironmentDirective,
  parseEnvironmentFile,
  parseEnvironmentFileDirective,
  parseExecStartDirective,
  parseShowEnvironment,
  parseShowEnvironmentFiles,
  parseShowExecStart,
  parseSystemctlShow,
  parseSystemdTimestamp,
  parseUnitFile,
  splitQuotedWords,
  type SpecifierContext,
} from "../../agent/platform/systemd.ts";
import { loadFixture } from "../fixtures/macos/recording.ts";
import { anyText, expectWithinBudget, fixture, hugeFrom, hugeShapes, inputsFor, parsesOrFailsCleanly } from "./arbitraries.ts";

const ctx: SpecifierContext = { unitName: "openclaw-gateway@x.service", home: "/home/oc", uid: 1000, userName: "oc" };
const showFixtures = ["systemctl-show-active.txt", "systemctl-show-failed.txt", "systemctl-show-not-found.txt"].map((f) => fixture(`systemd/${f}`));
const unitTemplate = fixture("systemd/openclaw-gateway.service.template");

const SHOW_WORDS = ["MainPID=", "Environment=", "EnvironmentFiles=", " (ignore_errors=yes)", " (ignore_errors=no)", "ExecStart=", "{ path=", " ; argv[]=", " ; ignore_errors=no", " ; flags=", " ; pid=", "48211", " }", "\n", "=", "\"", "\\", "[unprintable]", "Sat 2026-03-14 07:31:12 UTC", ".123456", " +02:00"];
const UNIT_WORDS = ["[Service]\n", "[Unit]\n", "[", "]", "\n", "\r\n", "\\\n", "# c\n", "; c\n", "ExecStart=", "Environment=", "EnvironmentFile=", "UnsetEnvironment=", "WorkingDirectory=", "A=b", "\"", "'", "\\", "%h", "%i", "%%", "%Z", "-", " ", "\\x41", "\\u00e9", "\\UFFFFFFFF", "\\101"];
const ENVFILE_WORDS = ["A", "B_1", "export ", "=", "'", "\"", "\\", "\n", "\r", "#", ";", " ", "\t", "value", "\\\n", "$", "`"];
const WORD_VOCABULARY = ["a", " ", "\t", "\n", '"', "'", "\\", "\\n", "\\x4", "\\x41", "\\u12", "\\u00e9", "\\U0001F600", "\\UFFFFFFFF", "\\101", "\\0", "=", "b c"];

describe("systemd parsers never throw on random, mutated or hostile input", () => {
  it("`systemctl show` and its values", () =>
    fc.assert(
      fc.property(inputsFor(SHOW_WORDS, ...showFixtures), (text) => {
        const show = parsesOrFailsCleanly(text, () => parseSystemctlShow(text))!;
        for (const key of show.keys()) expect(key).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
        parsesOrFailsCleanly(text, () => parseShowEnvironment(show.get("Environment")?.join(" ") ?? text));
        for (const spec of parsesOrFailsCleanly(text, () => parseShowEnvironmentFiles([...(show.get("EnvironmentFiles") ?? []), ...text.split("\n")]))!) expect(spec.path).toBe(spec.path.trim());
        const exec = parsesOrFailsCleanly(text, () => parseShowExecStart(show.get("ExecStart")?.[0] ?? text));
        if (exec?.pid !== undefined) expect(Number.isSafeInteger(exec.pid) && exec.pid > 0).toBe(true);
        const at = parsesOrFailsCleanly(text, () => parseSystemdTimestamp(show.get("ExecMainStartTimestamp")?.[0] ?? text));
        if (at !== undefined) expect(Number.isFinite(at)).toBe(true);
      }),
      { numRuns: 300 },
    ));

  it("unit files and every directive they hold", () =>
    fc.assert(
      fc.property(inputsFor(UNIT_WORDS, unitTemplate), (text) => {
        const { directives, problems } = parsesOrFailsCleanly(text, () => parseUnitFile(text, "/u/x.service"))!;
        // Every problem names the file and line, so it can be found.
        for (const p of problems) expect(p).toMatch(/^\/u\/x\.service:\d+: /);
        const unit = parsesOrFailsCleanly(text, () => evaluateDirectives(directives, ctx))!;
        for (const [name] of unit.environment) expect(name).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
        for (const spec of unit.environmentFiles) expect(spec.path.startsWith("/")).toBe(true);
      }),
      { numRuns: 300 },
    ));

  it("single directive values: Environment=, EnvironmentFile=, ExecStart=", () =>
    fc.assert(
      fc.property(inputsFor(UNIT_WORDS), (value) => {
        const problems: string[] = [];
        parsesOrFailsCleanly(value, () => parseEnvironmentDirective(value, ctx, problems));
        parsesOrFailsCleanly(value, () => parseEnvironmentFileDirective(value, ctx, problems));
        parsesOrFailsCleanly(value, () => parseExecStartDirective(value, ctx, problems));
      }),
      { numRuns: 300 },
    ));

  it("EnvironmentFile= contents; problems never quote a value", () =>
    fc.assert(
      fc.property(inputsFor(ENVFILE_WORDS), (text) => {
        const { values, problems } = parsesOrFailsCleanly(text, () => parseEnvironmentFile(text))!;
        for (const name of Object.keys(values)) expect(name).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
        for (const p of problems) expect(p).toMatch(/^line \d+: /);
      }),
      { numRuns: 300 },
    ));
});

/** A word as systemd's own quoting writes it: in "…", with \\ and " escaped (never NUL, which no word can hold). */
function quoteWord(word: string): string {
  return `"${word.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

describe("systemd word splitting and EnvironmentFile= syntax round-trip", () => {
  const word = fc.string({ unit: "binary", maxLength: 20 }).filter((w) => !w.includes("\0"));

  it("quoted words split back into the same words, whatever they contain", () =>
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), fc.constantFrom(" ", "\t", "  \t "), (words, gap) => {
        expect(splitQuotedWords(words.map(quoteWord).join(gap))).toEqual(words);
      }),
      { numRuns: 300 },
    ));

  it("Environment= assignments split back into the same name=value pairs", () =>
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/), word.filter((v) => !v.includes("%"))), { maxLength: 6 }), (pairs) => {
        const value = pairs.map(([k, v]) => quoteWord(`${k}=${v}`)).join(" ");
        expect(parseEnvironmentDirective(value, ctx)).toEqual(pairs.map(([k, v]) => [k, v]));
      }),
      { numRuns: 300 },
    ));

  it("an EnvironmentFile written with '…' or \"…\" quoting reads back to the same values (last assignment wins)", () =>
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/), word, fc.boolean()), { maxLength: 6 }), fc.constantFrom("\n", "\r\n", "\n\n# comment\n"), (assignments, newline) => {
        const text = assignments
          .map(([k, v, single]) => (single && !v.includes("'") ? `${k}='${v}'` : `${k}="${v.replace(/[\\"`$]/g, (c) => `\\${c}`)}"`))
          .join(newline);
        const expected: Record<string, string> = {};
        for (const [k, v] of assignments) expected[k] = v;
        expect(parseEnvironmentFile(text).values).toEqual(expected);
      }),
      { numRuns: 300 },
    ));
});

describe("rewritten matchers agree with the regexes they replaced, on inputs small enough for those", () => {
  it("EnvironmentFiles= lines: /^(.*?)\\s+\\(ignore_errors=(yes|no)\\)\\s*$/", () =>
    fc.assert(
      fc.property(fc.array(fc.constantFrom("-", "/a", " ", "\t", "(ignore_errors=yes)", "(ignore_errors=no)", ")", "x"), { maxLength: 8 }).map((p) => p.join("")), (line) => {
        const m = /^(.*?)\s+\(ignore_errors=(yes|no)\)\s*$/.exec(line.trim());
        const expected = m ? [{ path: m[1]!.replace(/^-/, ""), optional: m[2] === "yes" || m[1]!.startsWith("-") }] : [];
        expect(parseShowEnvironmentFiles([line])).toEqual(expected);
      }),
      { numRuns: 300 },
    ));

  it("ExecStart= values: /^\\{ path=(.*?) ; argv\\[\\]=(.*?) ; (?:ignore_errors|flags)=/", () =>
    fc.assert(
      fc.property(fc.array(fc.constantFrom("{ path=", " ; argv[]=", " ; ignore_errors=", " ; flags=", "a", " ", ";", "/bin/x"), { maxLength: 8 }).map((p) => p.join("")), (value) => {
        const m = /^\{ path=(.*?) ; argv\[\]=(.*?) ; (?:ignore_errors|flags)=/.exec(value.trim());
        const got = parseShowExecStart(value);
        expect(got ? [got.path, got.argvText] : undefined).toEqual(m ? [m[1], m[2]] : undefined);
      }),
      { numRuns: 300 },
    ));

  it("EnvironmentFile= globs: the glob(3) subset, as a regex built the safe way", () => {
    const toRegex = (pattern: string) => {
      // Only patterns whose every [ closes, so the oracle regex is valid.
      const body = pattern.replace(/\[!/g, "[^").replace(/[.+${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
      return new RegExp(`^${body}$`, "s");
    };
    fc.assert(
      fc.property(fc.array(fc.constantFrom("a", "b", ".", "*", "?", "[ab]", "[!a]", "[a-c]"), { maxLength: 6 }).map((p) => p.join("")), fc.array(fc.constantFrom("a", "b", "c", "."), { maxLength: 6 }).map((p) => p.join("")), (pattern, name) => {
        expect(globMatch(pattern, name)).toBe(toRegex(pattern).test(name));
      }),
      { numRuns: 300 },
    );
  });

  it("EnvironmentFile= globs never throw, even unclosed, and stay fast on *a*a*a… against long names", () => {
    fc.assert(fc.property(anyText, anyText, (pattern, name) => void parsesOrFailsCleanly(pattern, () => globMatch(pattern, name))), { numRuns: 300 });
    const started = performance.now();
    expect(globMatch(`${"*a".repeat(40)}*b`, "a".repeat(255))).toBe(false);
    expect(globMatch("[", "[")).toBe(true);
    expect(performance.now() - started).toBeLessThan(100);
  });
});

describe("systemd parsers stay linear on ~1 MB inputs", () => {
  // Each show value parser also gets its own recorded value as a fixture, so the classic shapes start from real output.
  const shown = (key: string) => parseSystemctlShow(showFixtures[0]!).get(key)?.[0] ?? "";
  const parsers: [string, (t: string) => unknown, string[], string[]][] = [
    ["parseSystemctlShow", parseSystemctlShow, SHOW_WORDS, showFixtures],
    ["parseShowEnvironment", parseShowEnvironment, SHOW_WORDS, [shown("Environment")]],
    ["parseShowEnvironmentFiles", (t) => parseShowEnvironmentFiles(t.split("\n")), SHOW_WORDS, [shown("EnvironmentFiles")]],
    ["parseShowExecStart", parseShowExecStart, SHOW_WORDS, [shown("ExecStart"), "{ path=/usr/bin/node ; argv[]="]],
    ["parseSystemdTimestamp", parseSystemdTimestamp, SHOW_WORDS, [shown("ExecMainStartTimestamp")]],
    ["parseUnitFile + evaluateDirectives", (t) => evaluateDirectives(parseUnitFile(t, "/u").directives, ctx), UNIT_WORDS, [unitTemplate]],
    ["splitQuotedWords", splitQuotedWords, WORD_VOCABULARY, []],
    ["parseEnvironmentFile", parseEnvironmentFile, ENVFILE_WORDS, []],
  ];
  for (const [name, parse, words, fixtures] of parsers) {
    it(`${name}: classic shapes`, () => {
      for (const huge of hugeShapes(...fixtures)) expectWithinBudget(name, huge, parse);
    });
    it(`${name}: its vocabulary repeated`, () => fc.assert(fc.property(hugeFrom(words, ...fixtures), (huge) => void expectWithinBudget(name, huge, parse)), { numRuns: 6, endOnFailure: true }));
  }
});

describe("unit evaluation stays linear in the number of distinct names", () => {
  it("~1 MB of Environment= lines, each a new variable", () => {
    const huge = {
      label: "Environment=A<n>=1 lines",
      build: (size: number) => {
        const lines = ["[Service]"];
        for (let i = 0, length = 10; length < size; i++) {
          lines.push(`Environment=A${i}=1`);
          length += lines.at(-1)!.length + 1;
        }
        return lines.join("\n");
      },
    };
    expectWithinBudget("parseUnitFile + evaluateDirectives", huge, (t) => evaluateDirectives(parseUnitFile(t, "/u").directives, ctx));
  });
});

describe("the whole systemd unit discovery, through the production runner and real files", () => {
  let home: string;
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), "clawfleet-props-systemd-"));
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it("never throws on mutated unit files, drop-ins, env files and `systemctl show` output", async () => {
    const units = join(home, ".config", "systemd", "user");
    const stateDir = join(home, ".openclaw");
    mkdirSync(join(units, "openclaw-gateway.service.d"), { recursive: true });
    mkdirSync(stateDir, { recursive: true });
    const show = loadFixture(join(import.meta.dirname, "../fixtures/systemd/systemctl-show-active.txt"));
    const managerEnv = loadFixture(join(import.meta.dirname, "../fixtures/systemd/systemctl-show-environment.txt"));
    const fill = (t: string) => t.replaceAll("{{HOME}}", home).replaceAll("{{STATE_DIR}}", stateDir);
    await fc.assert(
      fc.asyncProperty(inputsFor(UNIT_WORDS, fill(unitTemplate)), inputsFor(UNIT_WORDS), inputsFor(ENVFILE_WORDS), inputsFor(SHOW_WORDS, fill(show.stdout ?? "")), fc.boolean(), async (unit, dropIn, envFile, showText, managerUp) => {
        writeFileSync(join(units, "openclaw-gateway.service"), unit);
        writeFileSync(join(units, "openclaw-gateway.service.d", "override.conf"), dropIn);
        writeFileSync(join(stateDir, "gateway.systemd.env"), envFile);
        const runner = replayRunner({
          [managerEnv.command]: managerUp ? { stdout: fill(managerEnv.stdout ?? ""), stderr: "", exitCode: 0 } : { stdout: "", stderr: "Failed to connect to bus: No medium found", exitCode: 1 },
          [show.command]: { stdout: showText, stderr: "", exitCode: 0 },
        });
        const result = await discoverGatewayServices({ runner, env: { HOME: home, USER: "oc" }, home, stateDir, uid: 1000 }, "linux");
        for (const error of result.errors) expect(typeof error.message === "string" || typeof error === "object").toBe(true);
      }),
      { numRuns: 120 },
    );
  });
});
