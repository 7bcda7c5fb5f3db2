// systemd's own rules for unit files, EnvironmentFile= contents and
// `systemctl show` output (sources in agent/platform/systemd.ts and
// test/fixtures/systemd).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  expandSpecifiers,
  parseEnvironmentDirective,
  parseEnvironmentFile,
  parseExecStartDirective,
  parseShowEnvironment,
  parseShowEnvironmentFiles,
  parseShowExecStart,
  parseSystemctlShow,
  parseSystemdTimestamp,
  parseUnitFile,
  sameCommandLine,
  type SpecifierContext,
} from "../../agent/platform/systemd.ts";
import { loadFixture } from "../fixtures/macos/recording.ts";

const ctx: SpecifierContext = { unitName: "openclaw-gateway.service", home: "/home/oc", uid: 1000, userName: "oc" };

describe("EnvironmentFile= contents, as systemd reads them", () => {
  it("drops comments and surrounding whitespace, keeps interior whitespace of unquoted values", () => {
    const text = "# comment\n; also a comment\n  KEY = spaced value   \nEMPTY=\nURL=https://example.test/a?b=c\n";
    expect(parseEnvironmentFile(text)).toEqual({ values: { KEY: "spaced value", EMPTY: "", URL: "https://example.test/a?b=c" }, problems: [] });
  });

  it("single quotes are literal and may span lines; double quotes unescape only \\\" \\\\ \\` \\$", () => {
    const text = "SQ='a \\n $HOME\nnext'\nDQ=\"say \\\"hi\\\" \\$5 \\n\"\n";
    expect(parseEnvironmentFile(text).values).toEqual({ SQ: "a \\n $HOME\nnext", DQ: 'say "hi" $5 \\n' });
  });

  it("a trailing backslash continues an unquoted value; no variable expansion happens", () => {
    expect(parseEnvironmentFile("A=one \\\ntwo\nB=$A\n").values).toEqual({ A: "one two", B: "$A" });
  });

  it("`export FOO=bar` is not a valid name to systemd: dropped and reported without the value", () => {
    const parsed = parseEnvironmentFile("export OPENCLAW_GATEWAY_TOKEN=test-token-in-export\nOK=1\n");
    expect(parsed.values).toEqual({ OK: "1" });
    expect(parsed.problems).toEqual(['line 1: "export OPENCLAW_GATEWAY_TOKEN" is not a valid variable name; systemd ignores it']);
    expect(parsed.problems.join()).not.toContain("test-token-in-export");
  });

  it("the last assignment of a name wins; a file without a final newline still ends its value", () => {
    expect(parseEnvironmentFile("A=1\nA=2\nB='x'").values).toEqual({ A: "2", B: "x" });
  });

  it("reads what OpenClaw's serializeSystemdEnvironmentFile writes", () => {
    // serializeSystemdEnvironmentFileValue: quote when the value has whitespace or \ ' " ` $.
    const text = 'ANTHROPIC_API_KEY=sk-ant-test-0000\nNODE_OPTIONS="--max-old-space-size=2048 --title=\\"gw\\""\nCOST="\\$5"\n';
    expect(parseEnvironmentFile(text).values).toEqual({ ANTHROPIC_API_KEY: "sk-ant-test-0000", NODE_OPTIONS: '--max-old-space-size=2048 --title="gw"', COST: "$5" });
  });
});

describe("unit files", () => {
  it("splits sections and directives, joins continuation lines, skips comments", () => {
    const text = "[Unit]\nDescription=OpenClaw Gateway\n\n[Service]\n# comment\nExecStart=/usr/bin/node \\\n  /srv/index.js gateway\nEnvironment=A=1\n";
    const { directives, problems } = parseUnitFile(text, "/u/x.service");
    expect(problems).toEqual([]);
    expect(directives.map((d) => [d.section, d.key, d.value])).toEqual([
      ["Unit", "Description", "OpenClaw Gateway"],
      ["Service", "ExecStart", "/usr/bin/node    /srv/index.js gateway"],
      ["Service", "Environment", "A=1"],
    ]);
  });

  it("reports lines it cannot read, with file and line, and keeps going", () => {
    const { directives, problems } = parseUnitFile("Orphan=1\n[Service\n[Service]\nnot a directive\nA=b\n", "/u/x.service");
    expect(problems).toEqual(["/u/x.service:1: assignment outside any section", "/u/x.service:2: malformed section header", "/u/x.service:4: not a Key=value line"]);
    expect(directives.map((d) => d.key)).toEqual(["A"]);
  });

  it("Environment= unquotes, unescapes and expands specifiers; invalid assignments are dropped", () => {
    const problems: string[] = [];
    expect(parseEnvironmentDirective('"NODE_OPTIONS=--a --b" HOME_DIR=%h UID=%U PCT=100%% TAB=a\\tb =bad', ctx, problems)).toEqual([
      ["NODE_OPTIONS", "--a --b"],
      ["HOME_DIR", "/home/oc"],
      ["UID", "1000"],
      ["PCT", "100%"],
      ["TAB", "a\tb"],
    ]);
    expect(problems).toEqual(["Environment= entry without a name is not a valid assignment; systemd ignores it"]);
  });

  it("ExecStart= drops its prefixes and keeps quoted arguments whole", () => {
    expect(parseExecStartDirective('-/usr/bin/node "/opt/open claw/index.js" gateway --port 18789', ctx)).toEqual(["/usr/bin/node", "/opt/open claw/index.js", "gateway", "--port", "18789"]);
  });

  it("leaves an unknown specifier in place and says so", () => {
    const problems: string[] = [];
    expect(expandSpecifiers("%Z/x", ctx, problems)).toBe("%Z/x");
    expect(problems).toEqual(["specifier %Z is not resolved"]);
  });
});

describe("systemctl show output", () => {
  const active = loadFixture(join(import.meta.dirname, "../fixtures/systemd/systemctl-show-active.txt"));

  it("keeps every line of a repeated property", () => {
    const props = parseSystemctlShow("EnvironmentFiles=/a (ignore_errors=no)\nEnvironmentFiles=/b (ignore_errors=yes)\nNot a property line\n");
    expect(props.get("EnvironmentFiles")).toEqual(["/a (ignore_errors=no)", "/b (ignore_errors=yes)"]);
    expect(props.size).toBe(1);
  });

  it("Environment= values quoted by shell_maybe_quote come back whole; [unprintable] is counted, not invented", () => {
    const line = parseSystemctlShow(active.stdout!).get("Environment")![0]!;
    const env = parseShowEnvironment(line);
    expect(env.assignments).toContainEqual(["NODE_OPTIONS", "--max-old-space-size=2048 --enable-source-maps"]);
    expect(env.assignments.map(([k]) => k)).toContain("OPENCLAW_GATEWAY_TOKEN");
    expect(parseShowEnvironment('A=1 "B=x \\"y\\" \\$z" [unprintable]')).toEqual({ assignments: [["A", "1"], ["B", 'x "y" $z']], unprintable: 1 });
  });

  it("EnvironmentFiles= in both the modern and the pre-232 form (`EnvironmentFile=-/path`)", () => {
    expect(parseShowEnvironmentFiles(["/etc/oc.env (ignore_errors=no)", "/home/oc/.openclaw/gateway.systemd.env (ignore_errors=yes)"])).toEqual([
      { path: "/etc/oc.env", optional: false },
      { path: "/home/oc/.openclaw/gateway.systemd.env", optional: true },
    ]);
    expect(parseShowEnvironmentFiles(["-/etc/sysconfig/docker (ignore_errors=yes)"])).toEqual([{ path: "/etc/sysconfig/docker", optional: true }]);
  });

  it("reads ExecStart's { path=… ; argv[]=… ; … } form, and knows its argv loses quoting", () => {
    const exec = parseShowExecStart(parseSystemctlShow(active.stdout!).get("ExecStart")![0]!);
    expect(exec).toMatchObject({ path: "/usr/bin/node", argv: ["/usr/bin/node", "/usr/lib/node_modules/openclaw/dist/index.js", "gateway", "--port", "18789"], pid: 48211 });
    expect(sameCommandLine(["/usr/bin/node", "/opt/open claw/index.js"], "/usr/bin/node /opt/open claw/index.js")).toBe(true);
    expect(parseShowExecStart("garbage")).toBeUndefined();
    expect(parseShowExecStart("{ path=/x ; argv[]=/x ; flags= ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }")).toMatchObject({ path: "/x", pid: undefined });
  });

  it("timestamps: UTC and numeric offsets exactly, the local zone when it is ours, anything else unknown", () => {
    expect(parseSystemdTimestamp("Sat 2026-03-14 07:31:12 UTC")).toBe(Date.UTC(2026, 2, 14, 7, 31, 12));
    expect(parseSystemdTimestamp("Sat 2026-03-14 07:31:12.250000 UTC")).toBe(Date.UTC(2026, 2, 14, 7, 31, 12, 250));
    expect(parseSystemdTimestamp("Sat 2026-03-14 09:31:12 +02:00")).toBe(Date.UTC(2026, 2, 14, 7, 31, 12));
    expect(parseSystemdTimestamp("Sat 2026-03-14 09:31:12 XYZT")).toBeUndefined();
    expect(parseSystemdTimestamp("")).toBeUndefined();
    expect(parseSystemdTimestamp("n/a")).toBeUndefined();
  });
});
