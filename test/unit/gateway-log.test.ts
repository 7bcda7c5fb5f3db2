// The gateway-log observation: the files the pinned OpenClaw really writes
// (paths compared with its own dist code), what the real gateway wrote when
// it refused a config (test/fixtures/openclaw-log), launchd's output file from
// the plist OpenClaw builds, and the user journal replayed from a recording.
// Every result is scanned for the secrets planted in it.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OPENCLAW_SERVICE_ENV_HEADER } from "../../agent/discovery/dotenv-service-env.ts";
import { discoverOpenClaw, type OpenClawWorld } from "../../agent/discovery/openclaw-world.ts";
import { findOpenClawLogFiles, logProfileSegment } from "../../agent/discovery/openclaw-log-file.ts";
import { readTail } from "../../agent/discovery/log-tail.ts";
import { isOtherGatewaysLine } from "../../agent/discovery/log-attribution.ts";
import { createLogScrubber } from "../../agent/discovery/log-secrets.ts";
import { gatewayLog, LOG_LINE_CHARS, LOG_TAIL_BYTES, type GatewayLog } from "../../agent/observations/gateway-log.ts";
import type { Observation } from "../../agent/observations/observation.ts";
import { createObserver } from "../../agent/observations/observer.ts";
import { newRunCaches } from "../../agent/observations/run-caches.ts";
import { replayRunner, type CommandRunner, type Recording } from "../../agent/platform/command-runner.ts";
import { parseJournalJson } from "../../agent/platform/journal.ts";
import { localFingerprint } from "../../shared/fingerprint.ts";
import { fill, loadFixture, recordings } from "../fixtures/macos/recording.ts";
import { shiftTimes } from "../helpers/log-times.ts";

const FIXTURES = join(import.meta.dirname, "../fixtures");
/** The value the recorded gateway quoted back (its token and its bad bind). */
const RECORDED_TOKEN = "Zq9SECRETtokenValue4242abcdXY";
/** A known secret no credential shape would catch: only knowing it finds it. */
const PLAIN_SECRET = "plainlowercasesecretvalue";
const PROVIDER_KEY = "sk-proj-test-0000111122223333aaaa";
const URL_PASSWORD = "hunter2hunter2x";
const BEARER = "eyJhbGciOiJIUzI1NiJ9.payload.sig";
const UID = process.getuid?.() ?? 0;

async function gather<T>(observation: Observation<T>, world: OpenClawWorld, runner: CommandRunner, platform: NodeJS.Platform, preset?: Map<string, unknown>): Promise<T> {
  const observer = createObserver({ world, fingerprint: localFingerprint, runner, platform, noteCredential: () => {}, caches: newRunCaches() }, preset);
  return observer.observe(observation, [observation], "test");
}

function expectNoSecrets(result: unknown, secrets: readonly string[]): void {
  const text = JSON.stringify(result);
  for (const secret of secrets) expect(text, "a planted secret leaked").not.toContain(secret);
}

describe("where OpenClaw 2026.9.6 writes its file log", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-logdir-"));
    chmodSync(dir, 0o700);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("finds the dated file at the path OpenClaw's own resolver gives, for each profile", async () => {
    process.env.VITEST = "true"; // keeps the dist logger from installing exit hooks
    const distLogger = new URL("../openclaw/node_modules/openclaw/dist/logger--ALOusOG.mjs", import.meta.url).href;
    const dist = (await import(distLogger)) as { p: (config: unknown, options: { env: Record<string, string>; logDir: string; date: Date }) => string };
    for (const profile of [undefined, "default", "work", "Work_1", "ops.eu"]) {
      const env: Record<string, string> = profile ? { OPENCLAW_PROFILE: profile } : {};
      const theirs = dist.p(undefined, { env, logDir: dir, date: new Date() });
      writeFileSync(theirs, "{}\n");
      const found = findOpenClawLogFiles({ env, home: dir, uid: UID, preferredDir: dir }).map((f) => f.path);
      expect(found, String(profile)).toContain(theirs);
      // Another profile's files are another gateway's.
      expect(found.every((p) => p.slice(dir.length + 1).startsWith(profile && profile !== "default" ? `openclaw-${logProfileSegment(profile)}-` : "openclaw-2"))).toBe(true);
      rmSync(theirs);
    }
  });

  it("finds no file log for a gateway started by Vitest, which OpenClaw silences unless told to log (canUseSilentVitestFileLogFastPath)", () => {
    writeFileSync(join(dir, `openclaw-${new Date().toISOString().slice(0, 10)}.log`), "{}\n");
    const configured = join(dir, "gateway.log");
    writeFileSync(configured, "{}\n");
    const found = (env: Record<string, string>, configuredFile?: string) => findOpenClawLogFiles({ env, configuredFile, home: dir, uid: UID, preferredDir: dir }).length;
    expect(found({})).toBe(1);
    expect(found({ VITEST: "true" })).toBe(0);
    expect(found({ VITEST: "true" }, configured)).toBe(0);
    // A level from the environment turns the file log back on, at the configured or default path.
    expect(found({ VITEST: "true", OPENCLAW_LOG_LEVEL: "info" })).toBe(1);
    expect(found({ VITEST: "true", OPENCLAW_LOG_LEVEL: "info" }, configured)).toBe(1);
    // OPENCLAW_TEST_FILE_LOG=1: the configured file, else one named after the gateway's cwd and pid.
    expect(found({ VITEST: "true", OPENCLAW_TEST_FILE_LOG: "1" }, configured)).toBe(1);
    expect(found({ VITEST: "true", OPENCLAW_TEST_FILE_LOG: "1" })).toBe(0);
  });

  it("reads today's file first, then earlier days and size rotations, and nothing else in the directory", () => {
    const names = ["openclaw-2026-12-03.log", "openclaw-2026-12-04.log", "openclaw-2026-12-04.1.log", "openclaw-work-2026-12-04.log", "notes.log", "openclaw.log"];
    names.forEach((name, i) => {
      writeFileSync(join(dir, name), "x\n");
      utimesSync(join(dir, name), 1_000_000 + i, 1_000_000 + i);
    });
    const found = findOpenClawLogFiles({ env: {}, home: dir, uid: UID, preferredDir: dir }).map((f) => f.path.slice(dir.length + 1));
    expect(found).toEqual(["openclaw-2026-12-04.1.log", "openclaw-2026-12-04.log", "openclaw-2026-12-03.log"]);
  });

  it("falls back to <TMPDIR>/openclaw-<uid> when the preferred dir is writable by others, as OpenClaw's secure temp root does", () => {
    chmodSync(dir, 0o777);
    const tmp = mkdtempSync(join(tmpdir(), "clawfleet-tmpdir-"));
    try {
      mkdirSync(join(tmp, `openclaw-${UID}`));
      writeFileSync(join(tmp, `openclaw-${UID}`, "openclaw-2026-12-05.log"), "{}\n");
      writeFileSync(join(dir, "openclaw-2026-12-05.log"), "{}\n");
      const found = findOpenClawLogFiles({ env: { TMPDIR: `${tmp}/` }, home: dir, uid: UID, preferredDir: dir }).map((f) => f.path);
      expect(found).toEqual([join(tmp, `openclaw-${UID}`, "openclaw-2026-12-05.log")]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("takes logging.file as written (with ~ expanded) and its .1–.5 rotations; a legacy dated name stays rolling", async () => {
    writeFileSync(join(dir, "gw.log"), "a\n");
    writeFileSync(join(dir, "gw.1.log"), "b\n");
    utimesSync(join(dir, "gw.1.log"), 1_000_000, 1_000_000);
    expect(findOpenClawLogFiles({ configuredFile: join(dir, "gw.log"), env: {}, home: dir, uid: UID }).map((f) => f.path)).toEqual([join(dir, "gw.log"), join(dir, "gw.1.log")]);
    expect(findOpenClawLogFiles({ configuredFile: "~/gw.log", env: {}, home: dir, uid: UID }).map((f) => f.path)[0]).toBe(join(dir, "gw.log"));
    writeFileSync(join(dir, "openclaw-2026-12-05.log"), "c\n");
    expect(findOpenClawLogFiles({ configuredFile: join(dir, "openclaw-2020-01-01.log"), env: {}, home: dir, uid: UID }).map((f) => f.path)).toEqual([join(dir, "openclaw-2026-12-05.log")]);
  });
});

describe("reading a log's tail", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-tail-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads at most the byte budget from the end, in whole lines, and leaves the file as it was", async () => {
    const path = join(dir, "big.log");
    const line = (i: number) => `line ${String(i).padStart(7, "0")} ${"é".repeat(40)}`;
    writeFileSync(path, Array.from({ length: 20_000 }, (_, i) => line(i)).join("\n") + "\n");
    const before = statSync(path);
    const tail = await readTail(path, LOG_TAIL_BYTES);
    const after = statSync(path);
    expect(before.size).toBeGreaterThan(1_000_000);
    expect(tail.truncated).toBe(true);
    expect(Buffer.byteLength(tail.lines.join("\n"))).toBeLessThanOrEqual(LOG_TAIL_BYTES);
    expect(tail.lines.at(-1)).toBe(line(19_999));
    expect(tail.lines.every((l, k) => l === line(20_000 - tail.lines.length + k))).toBe(true);
    expect([after.size, after.mtimeMs, after.ctimeMs]).toEqual([before.size, before.mtimeMs, before.ctimeMs]);
  });

  it("refuses a FIFO where a log should be, without blocking on it", async () => {
    const fifo = join(dir, "gateway.log");
    execFileSync("mkfifo", [fifo]);
    await expect(readTail(fifo, 1024)).rejects.toThrow(/not a regular file/);
  });
});

describe("which gateway a shared log line belongs to", () => {
  it("reads state dirs and config files named in a line", () => {
    const ours = ["/Users/mini/.openclaw", "/Users/mini/.openclaw/openclaw.json"] as const;
    expect(isOtherGatewaysLine("Gateway failed to start: Invalid config at /Users/mini/.openclaw/openclaw.json:", ...ours)).toBe(false);
    expect(isOtherGatewaysLine('cron store {"storeKey":"/Users/mini/.openclaw/cron/jobs.json"}', ...ours)).toBe(false);
    expect(isOtherGatewaysLine("Gateway failed to start: Invalid config at /Users/mini/.openclaw-work/openclaw.json:", ...ours)).toBe(true);
    expect(isOtherGatewaysLine("Invalid config at /srv/gw2/openclaw.json", ...ours)).toBe(true);
    expect(isOtherGatewaysLine("[gateway] starting...", ...ours)).toBe(false);
    expect(isOtherGatewaysLine("Invalid config at /etc/gw/openclaw.json", "/var/lib/gw", "/etc/gw/openclaw.json")).toBe(false);
  });
});

describe("secrets in log lines", () => {
  it("replaces known secrets and credential shapes by fingerprints, and keeps what names a key", () => {
    const scrub = createLogScrubber([PLAIN_SECRET, "short"], localFingerprint);
    const line = `got: "${PLAIN_SECRET}" auth=Bearer ${BEARER} key ${PROVIDER_KEY} proxy=https://bot:${URL_PASSWORD}@proxy.local OPENCLAW_GATEWAY_TOKEN=${RECORDED_TOKEN}; gateway.auth.token: Invalid input short`;
    const out = scrub(line);
    for (const secret of [PLAIN_SECRET, BEARER, PROVIDER_KEY, URL_PASSWORD, RECORDED_TOKEN]) {
      expect(out).not.toContain(secret);
      expect(out).toContain(localFingerprint(secret));
    }
    expect(out).toContain("gateway.auth.token: Invalid input short"); // a key name and short words are not secrets
    const path = "Invalid config at /tmp/clawfleet-restarts-oFQV6B/.openclaw/openclaw.json: boot 9f1c2e3a-77aa-4b1c-9d2e-0a1b2c3d4e5f";
    expect(scrub(path)).toBe(path); // paths and UUIDs are not secrets
  });
});

describe("the gateway-log observation", () => {
  let home: string;
  let stateDir: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "clawfleet-gwlog-"));
    stateDir = join(home, ".openclaw");
    mkdirSync(stateDir, { recursive: true });
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  const worldWith = (config: Record<string, unknown>, env: Record<string, string> = {}) => {
    writeFileSync(join(stateDir, "openclaw.json"), JSON.stringify(config));
    return discoverOpenClaw({ HOME: home, OPENCLAW_STATE_DIR: stateDir, ...env });
  };
  /** The recorded file log, as this test's gateway would have written it (its state dir in place of the recording's). */
  const recordedFileLog = (endMs: number, recordedHome = home) => shiftTimes(readFileSync(join(FIXTURES, "openclaw-log/file-log-config-invalid.jsonl"), "utf8").replaceAll("/tmp/lg-exp/home", recordedHome), endMs);
  const recordedConsole = (endMs: number) => shiftTimes(readFileSync(join(FIXTURES, "openclaw-log/console-config-invalid.log"), "utf8"), endMs);

  it("returns the real gateway's fatal line from its file log and its launchd output file, the token fingerprinted", async () => {
    const logs = join(home, "logs");
    mkdirSync(logs);
    const fileLog = join(logs, "gw.log");
    const now = Date.now();
    // A day-old start, then the recorded refusal a minute ago, then lines with planted secrets.
    const old = JSON.stringify({ time: new Date(now - 25 * 3600_000).toISOString(), _meta: { logLevelName: "INFO" }, message: "yesterday's news" });
    const planted = JSON.stringify({ time: new Date(now - 1000).toISOString(), _meta: { logLevelName: "WARN" }, message: `provider call with Authorization: Bearer ${BEARER} via https://bot:${URL_PASSWORD}@proxy.local key=${PROVIDER_KEY} ${PLAIN_SECRET}` });
    writeFileSync(fileLog, `${old}\n${recordedFileLog(now - 60_000)}${planted}\n`);
    // launchd's StandardOutPath, from the plist OpenClaw's builder writes.
    const agents = join(home, "Library", "LaunchAgents");
    mkdirSync(agents, { recursive: true });
    mkdirSync(join(home, "Library", "Logs", "openclaw"), { recursive: true });
    writeFileSync(join(agents, "ai.openclaw.gateway.plist"), readFileSync(join(FIXTURES, "macos/ai.openclaw.gateway.plist.template"), "utf8").replaceAll("{{HOME}}", home).replaceAll("{{STATE_DIR}}", stateDir));
    const consolePath = join(home, "Library", "Logs", "openclaw", "gateway.log");
    writeFileSync(consolePath, recordedConsole(now - 60_000));
    mkdirSync(join(stateDir, "service-env"));
    writeFileSync(join(stateDir, "service-env", "ai.openclaw.gateway.env"), `${OPENCLAW_SERVICE_ENV_HEADER}\nexport OPENCLAW_GATEWAY_PASSWORD='${PLAIN_SECRET}'\n`);

    const world = worldWith({ gateway: { mode: "local", bind: RECORDED_TOKEN, auth: { mode: "token", token: RECORDED_TOKEN } }, logging: { file: fileLog } });
    const notLoaded = loadFixture(join(FIXTURES, "macos/launchctl-print-not-loaded.txt"));
    const runner = replayRunner(recordings({ ...notLoaded, command: `launchctl print gui/${UID}/ai.openclaw.gateway` }));
    const log = await gather(gatewayLog, world, runner, "darwin");

    expect(log.sources).toEqual([{ kind: "openclaw-file", where: fileLog }, { kind: "launchd-stdout", where: consolePath }]);
    const fatal = log.lines.filter((l) => l.text.startsWith("Gateway failed to start: Invalid config at "));
    expect(fatal.map((l) => l.where)).toEqual([consolePath, fileLog]);
    const fromFile = fatal.find((l) => l.where === fileLog)!;
    expect(fromFile.level).toBe("ERROR");
    expect(fromFile.text).toContain(`got: "${localFingerprint(RECORDED_TOKEN)}"`);
    // On the console the message spans lines without timestamps: one LogLine all the same.
    const fromConsole = fatal.find((l) => l.where === consolePath)!;
    expect(fromConsole.text.split("\n")).toHaveLength(4);
    expect(fromConsole.text).toContain(`got: "${localFingerprint(RECORDED_TOKEN)}"`);
    expect(Math.abs(fromFile.atMs! - (now - 60_000))).toBeLessThan(1000);
    expect(log.lines.some((l) => l.text.includes("yesterday's news"))).toBe(false);
    // Oldest first, across sources.
    const times = log.lines.map((l) => l.atMs ?? 0);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expectNoSecrets(log, [RECORDED_TOKEN, PLAIN_SECRET, PROVIDER_KEY, URL_PASSWORD, BEARER]);
  });

  it("leaves out another gateway's lines from a file log they share, and counts them", async () => {
    // Two state dirs, one user, no profile: OpenClaw sends both gateways to the same file.
    const shared = join(home, "openclaw-shared.log");
    const now = Date.now();
    writeFileSync(shared, recordedFileLog(now - 120_000, "/srv/other-gateway") + recordedFileLog(now - 60_000));
    const log = await gather(gatewayLog, worldWith({ logging: { file: shared } }), replayRunner({}), "linux");
    const fatal = log.lines.filter((l) => l.text.startsWith("Gateway failed to start:"));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.text).toContain(`Invalid config at ${stateDir}/openclaw.json`);
    // The other gateway's refusal names its config; its path-free lines ("starting...") cannot be told apart.
    expect(log.sources).toEqual([{ kind: "openclaw-file", where: shared, otherGatewayLines: 1 }]);
  });

  it("says why a source could not be read, and caps long lines", async () => {
    const fileLog = join(home, "gw.log");
    writeFileSync(fileLog, `${JSON.stringify({ time: new Date().toISOString(), message: `Gateway failed to start: ${"x".repeat(10_000)}` })}\n`);
    const world = worldWith({ logging: { file: fileLog } });
    const log = await gather(gatewayLog, world, replayRunner({}), "linux");
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.text.length).toBe(LOG_LINE_CHARS + 1);
    // A huge line reaches the patterns bounded: 60 KB of "keykey…" takes the key=value pattern quadratic time otherwise.
    writeFileSync(fileLog, `${JSON.stringify({ time: new Date().toISOString(), message: `${"word ".repeat(399)}${PLAIN_SECRET} ${"key".repeat(20_000)}` })}\n`);
    const started = performance.now();
    const huge = await gather(gatewayLog, discoverOpenClaw({ HOME: home, OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_PASSWORD: PLAIN_SECRET }), replayRunner({}), "linux");
    expect(performance.now() - started).toBeLessThan(1000);
    expect(huge.lines[0]!.text).toHaveLength(LOG_LINE_CHARS + 1);
    expect(huge.lines[0]!.text).not.toContain(PLAIN_SECRET.slice(0, 5)); // fingerprinted whole, then cut
    rmSync(fileLog);
    const missing = await gather(gatewayLog, world, replayRunner({}), "linux");
    expect(missing).toEqual({ sources: [{ kind: "openclaw-file", where: fileLog, error: "no log file written in the last 24 h" }], lines: [] } satisfies GatewayLog);
  });

  describe("the systemd user journal", () => {
    const units = () => join(home, ".config", "systemd", "user");
    const systemd = (name: string) => fill(loadFixture(join(FIXTURES, "systemd", name)), { HOME: home, STATE_DIR: stateDir });
    const journal = (times: number[], token: string): Recording => {
      const fixture = fill(loadFixture(join(FIXTURES, "systemd/journalctl-gateway-config-invalid.txt")), { TOKEN: token, ...Object.fromEntries(times.map((t, i) => [`T${i}`, String(t * 1000)])) });
      return { stdout: fixture.stdout, exitCode: fixture.exitCode };
    };
    beforeEach(() => {
      mkdirSync(units(), { recursive: true });
      writeFileSync(join(units(), "openclaw-gateway.service"), readFileSync(join(FIXTURES, "systemd/openclaw-gateway.service.template"), "utf8").replaceAll("{{HOME}}", home).replaceAll("{{STATE_DIR}}", stateDir));
    });

    it("reads the unit's journal where a user manager answers: the gateway's lines and systemd's, bytes decoded, the token fingerprinted", async () => {
      const now = Date.now();
      const calls: string[] = [];
      const runner = replayRunner({
        ...recordings(systemd("systemctl-show-environment.txt"), systemd("systemctl-show-failed.txt")),
        "journalctl --user -u openclaw-gateway.service -n 200 -o json --no-pager -q": journal([0, 1, 2, 3, 4, 5, 6].map((i) => now - 70_000 + i * 10_000), RECORDED_TOKEN),
      }, calls);
      const world = worldWith({ gateway: { auth: { token: RECORDED_TOKEN } }, logging: { file: join(home, "none.log") } });
      const log = await gather(gatewayLog, world, runner, "linux");

      expect(calls).toContain("journalctl --user -u openclaw-gateway.service -n 200 -o json --no-pager -q");
      expect(log.sources).toContainEqual({ kind: "journal", where: "journal openclaw-gateway.service" });
      const texts = log.lines.filter((l) => l.where === "journal openclaw-gateway.service").map((l) => l.text);
      expect(texts[0]).toBe("[gateway] loading configuration…"); // the console's own timestamp gives way to the journal's
      expect(texts).toContain("openclaw-gateway.service: Scheduled restart job, restart counter is at 3.");
      expect(texts.at(-1)).toBe("\x1b[31mGateway failed to start: Invalid config at /home/mini/.openclaw/openclaw.json\x1b[0m");
      const fatal = log.lines.find((l) => l.text.startsWith("Gateway failed to start:") && l.level === "ERROR")!;
      expect(fatal.text).toContain(localFingerprint(RECORDED_TOKEN));
      expect(fatal.atMs).toBe(now - 50_000);
      expectNoSecrets(log, [RECORDED_TOKEN]);
    });

    it("does not ask the journal when no user manager answers", async () => {
      const calls: string[] = [];
      const runner = replayRunner(recordings(systemd("systemctl-user-no-bus.txt")), calls);
      const log = await gather(gatewayLog, worldWith({ logging: { file: join(home, "none.log") } }), runner, "linux");
      expect(calls.some((c) => c.startsWith("journalctl"))).toBe(false);
      expect(log.sources.map((s) => s.kind)).toEqual(["openclaw-file"]);
    });
  });

  it("parses journal export lines: byte arrays, repeated fields, notices and missing times", () => {
    const out = parseJournalJson(['-- No entries --', '{"MESSAGE":[104,105],"PRIORITY":"3","__REALTIME_TIMESTAMP":"1780000000123456"}', '{"MESSAGE":["a","b"]}', '{"MESSAGE":null}', "{not json"].join("\n"));
    expect(out).toEqual([{ atMs: 1780000000123, level: "ERROR", text: "hi" }, { text: "a\nb" }]);
  });
});
