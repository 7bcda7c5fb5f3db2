// `clawfleet agent check --ticket` against a real gateway (pinned OpenClaw)
// on a host full of secrets: the gateway token in config and service unit,
// a provider key in the state dir's .env and another in the unit's env file,
// one on the service's command line, and a hostile line in the gateway's own
// log that quotes a secret and tries to break out of its code block. The
// ticket freezes the state, names variables but never values, shows secrets
// only as fingerprints, and keeps the hostile line inside its fence.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localFingerprint } from "../../shared/fingerprint.ts";
import { createGateway, TEST_PROVIDER_KEY, type TestGateway } from "../helpers/openclaw-gateway.ts";
import { REPO_ROOT, runClawfleet, stopAll } from "../helpers/processes.ts";

const SECRETS = {
  gateway: "cf-ticket-gateway-token-6d1f8a3c9e2b7045",
  serviceKey: "sk-ant-cf-ticket-service-key-8b2e5d1a7c",
  execToken: "cf-ticket-exec-token-2c7a9e4b1d8f3a60",
  logOnly: "sk-cf-ticket-log-only-key-5e8a2c9d7b1f",
};
const ALL_SECRETS = [...Object.values(SECRETS), TEST_PROVIDER_KEY];
/** A line of six backticks (it closes any shorter fence), a heading, raw HTML and an escape sequence: what a log line must not turn into. */
const HOSTILE = "```\n" + "``````\n# INJECTED HEADING\n</details><img src=x onerror=alert(1)>\u001b[31m";

/** The lines of `markdown` outside fenced code blocks, per CommonMark: a fence closes only with at least as many backticks. */
function outsideFences(markdown: string): string[] {
  const out: string[] = [];
  let open: number | undefined;
  for (const line of markdown.split("\n")) {
    const fence = /^ {0,3}(`{3,})\s*([^`]*)$/.exec(line);
    if (open === undefined) {
      if (fence) open = fence[1]!.length;
      else out.push(line);
    } else if (fence && fence[1]!.length >= open && fence[2]!.trim() === "") {
      open = undefined;
    }
  }
  expect(open, "every fence is closed").toBeUndefined();
  return out;
}

describe("agent check --ticket (real OpenClaw)", () => {
  let gateway: TestGateway;
  let scratch: string;
  let logFile: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "clawfleet-ticket-"));
    logFile = join(scratch, "logs", "gateway.log");
    gateway = await createGateway({
      token: SECRETS.gateway,
      config: { gateway: { mode: "local", auth: { mode: "token", token: SECRETS.gateway } }, logging: { file: logFile } },
    });
    const unitDir = join(gateway.home, ".config", "systemd", "user");
    mkdirSync(unitDir, { recursive: true });
    writeFileSync(join(gateway.stateDir, "gateway.systemd.env"), `ANTHROPIC_API_KEY=${SECRETS.serviceKey}\n`, { mode: 0o600 });
    writeFileSync(join(unitDir, "openclaw-gateway.service"), [
      "[Service]",
      `ExecStart=/usr/bin/node /usr/lib/node_modules/openclaw/dist/index.js gateway --port ${gateway.port} --token ${SECRETS.execToken}`,
      `EnvironmentFile=-${join(gateway.stateDir, "gateway.systemd.env")}`,
      `Environment=OPENCLAW_STATE_DIR=${gateway.stateDir}`,
      `Environment=OPENCLAW_GATEWAY_TOKEN=${SECRETS.gateway}`,
      "",
    ].join("\n"), { mode: 0o600 });
    // The gateway's file log (OpenClaw's JSON lines), with the refusal a start would print, made hostile.
    mkdirSync(join(scratch, "logs"));
    const message = `Gateway failed to start: Invalid config at ${join(gateway.stateDir, "openclaw.json")}: ${HOSTILE} token=${SECRETS.gateway} key ${SECRETS.logOnly}`;
    appendFileSync(logFile, JSON.stringify({ time: new Date().toISOString(), _meta: { logLevelName: "ERROR" }, message }) + "\n");
    // An older global install earlier on PATH, laid out as npm does, and the pinned one after it.
    const prefix = join(scratch, "old-prefix");
    mkdirSync(join(prefix, "lib", "node_modules", "openclaw"), { recursive: true });
    mkdirSync(join(prefix, "bin"));
    writeFileSync(join(prefix, "lib", "node_modules", "openclaw", "package.json"), JSON.stringify({ name: "openclaw", version: "2026.8.1" }));
    writeFileSync(join(prefix, "lib", "node_modules", "openclaw", "openclaw.mjs"), "#!/usr/bin/env node\n", { mode: 0o755 });
    symlinkSync("../lib/node_modules/openclaw/openclaw.mjs", join(prefix, "bin", "openclaw"));
    const pinned = join(REPO_ROOT, "test", "openclaw", "node_modules", ".bin");
    // Not VITEST: OpenClaw's file log counts as silenced under Vitest (openclaw-log-file.ts), a host's is not.
    env = { ...gateway.clientEnv(), VITEST: undefined, PATH: `${join(prefix, "bin")}:${pinned}:${REPO_ROOT}node_modules/.bin:/usr/bin:/bin` };
  });
  afterAll(async () => {
    await stopAll();
    await gateway?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("freezes the state in Markdown with the same exit status as the check, fingerprints only, and the hostile log line fenced", async () => {
    const ticket = await runClawfleet(["agent", "check", "--ticket", "--node-id", "mini-ticket"], env);
    const json = await runClawfleet(["agent", "check", "--json", "--node-id", "mini-ticket"], env);
    const doc = JSON.parse(json.stdout) as { verdict: string; findings: { code: string | null; layer: string; summary: string }[]; credentials: { fingerprint: string; source: string }[] };
    expect(ticket.code).toBe(json.code);
    expect(ticket.stderr).toBe("");
    const md = ticket.stdout;

    // No secret, in any output; each one the run saw is there as its fingerprint.
    for (const secret of ALL_SECRETS) {
      expect(md).not.toContain(secret);
      expect(ticket.stderr).not.toContain(secret);
    }
    for (const secret of [SECRETS.gateway, TEST_PROVIDER_KEY]) expect(md).toContain(`\`${localFingerprint(secret)}\``);
    // The service's command line is quoted with its token fingerprinted.
    expect(md).toContain(`--token ${localFingerprint(SECRETS.execToken)}`);
    // The log line's secrets are fingerprinted where the gateway printed them.
    expect(md).toContain(`token=${localFingerprint(SECRETS.gateway)}`);
    expect(md).toContain(localFingerprint(SECRETS.logOnly));

    // The frozen state: time, node, user, versions, every openclaw on PATH, config, state dir, service.
    expect(md).toMatch(/^## Change ticket: `mini-ticket` is (OK|WARN|FAIL|UNKNOWN)$/m);
    expect(md).toMatch(/^- Time: `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`/m);
    expect(md).toMatch(/^- Agent ran as: `[^`]+` \(uid \d+\)$/m);
    expect(md).toMatch(/^- clawfleet agent: `\d+\.\d+\.\d+/m);
    expect(md).toMatch(/^- OpenClaw gateway: `2026\.9\.6`, pid \d+/m);
    expect(md).toContain(`  - \`${join(scratch, "old-prefix", "bin", "openclaw")}\` → \`${join(scratch, "old-prefix", "lib", "node_modules", "openclaw", "openclaw.mjs")}\` (\`2026.8.1\`)`);
    expect(md).toMatch(new RegExp(`^  - \`${join(REPO_ROOT, "test", "openclaw", "node_modules", ".bin", "openclaw").replace(/[.]/g, "\\.")}\` → .*\\(\`2026\\.9\\.6\`\\)$`, "m"));
    expect(md).toContain(`- Config: \`${join(gateway.stateDir, "openclaw.json")}\``);
    expect(md).toContain(`- State dir: \`${gateway.stateDir}\``);
    expect(md).toMatch(/^- Service: systemd `openclaw-gateway\.service` \(/m);
    expect(md).toContain("  - program: `/usr/bin/node /usr/lib/node_modules/openclaw/dist/index.js gateway --port");

    // Every finding of the run, with its layer and code, in the same order as the JSON.
    const findingLines = md.split("\n").filter((l) => /^\d+\. \*\*/.test(l));
    expect(findingLines).toHaveLength(doc.findings.length);
    doc.findings.forEach((f, i) => expect(findingLines[i]).toContain(`\`${f.code ? `${f.layer} / ${f.code}` : f.layer}\``));
    for (const f of doc.findings) expect(md).toContain(`summary: ${f.summary.split("\n")[0]}`);

    // Variables by name: the service's (unit and env file) and the state dir's .env, never a value.
    const names = md.slice(md.indexOf("### The gateway's environment"), md.indexOf("### Credentials"));
    // (The live gateway's environment comes first: this one was not started by its unit.)
    expect(names).toMatch(/^- `gateway pid \d+ env`: .*`OPENCLAW_GATEWAY_TOKEN`/m);
    expect(names).toContain(`- \`${join(gateway.stateDir, ".env")}\`: \`OPENAI_API_KEY\``);
    expect(names).not.toContain("=");
    expect(md).toContain("  - variables it sets (names only): `ANTHROPIC_API_KEY`, `OPENCLAW_GATEWAY_TOKEN`, `OPENCLAW_STATE_DIR`");

    // Change plan: blast radius and rollback point per source, by fingerprint.
    const plan = md.slice(md.indexOf("### Change plan"));
    expect(plan).toContain("One credential at a time");
    expect(plan).toContain("Rotation window (UTC)");
    expect(plan).toContain("`systemctl --user restart openclaw-gateway.service`");
    for (const c of doc.credentials) expect(plan).toContain(`\`${c.source}\` → \`${c.fingerprint}\``);

    // The hostile line is quoted, inside a fence longer than its six backticks, and nothing of it escapes.
    const fatal = md.slice(md.indexOf("### The gateway's last fatal lines"), md.indexOf("### The gateway's environment"));
    expect(fatal).toContain(`\`\`\`\`\`\`\`text\n`);
    expect(fatal).toContain("\n  ``````\n  # INJECTED HEADING\n");
    expect(fatal).toContain("\\x1b[31m");
    expect(md).not.toContain("\u001b");
    const outside = outsideFences(md);
    expect(outside.join("\n")).not.toContain("INJECTED");
    expect(outside.join("\n")).not.toContain("<img");
    expect(outside.filter((l) => l.startsWith("#"))).toEqual([
      expect.stringMatching(/^## Change ticket/),
      "### Frozen state",
      "### Verdict",
      "### Findings",
      "### The gateway's last fatal lines",
      "### The gateway's environment (names only)",
      "### Credentials (fingerprints only)",
      "### Change plan",
    ]);
  }, 60_000);

  it("says how to use it in --help, and refuses --ticket with --json as a usage error (exit 3)", async () => {
    const help = await runClawfleet(["agent", "check", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: clawfleet agent check \[--json \| --ticket\]/);
    expect(help.stdout).toMatch(/--ticket +print a Markdown block to paste into a change ticket/);
    const both = await runClawfleet(["agent", "check", "--ticket", "--json"], env);
    expect(both.code).toBe(3);
    expect(both.stdout).toBe("");
    expect(both.stderr).toContain("--json and --ticket are two outputs: choose one");
  });
});
