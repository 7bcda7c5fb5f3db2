// The gateway's own words, from the real pinned OpenClaw: a gateway whose
// config it refuses (a bind value that is not one, which happens to be the
// token) dies at start and says why in its file log (`logging.file`, in a temp
// dir). A supervisor loop in the test restarts it, as launchd's KeepAlive or
// systemd's Restart=always would: one failure is not a loop, three are, and
// `clawfleet agent check` names the loop with the gateway's last fatal line,
// the token only ever as its fingerprint.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { restartsCheck } from "../../agent/checks/restarts.ts";
import { runChecks } from "../../agent/checks/run-checks.ts";
import { discoverOpenClaw } from "../../agent/discovery/openclaw-world.ts";
import { gatewayLog } from "../../agent/observations/gateway-log.ts";
import { createObserver } from "../../agent/observations/observer.ts";
import { newRunCaches } from "../../agent/observations/run-caches.ts";
import { systemRunner } from "../../agent/platform/command-runner.ts";
import { localFingerprint } from "../../shared/fingerprint.ts";
import { OPENCLAW_ENTRY } from "../helpers/openclaw-gateway.ts";
import { freePort } from "../helpers/ports.ts";
import { agentCheckJson, baseEnv, REPO_ROOT, spawnProcess, stopAll } from "../helpers/processes.ts";

const TOKEN = "Cf7LogLoopToken4821aZbYcX93";
const FATAL_PREFIX = "Gateway failed to start: Invalid config at ";
/** One start takes 10–30 s on 2 shared cores before the config check refuses it. */
const START_MS = 90_000;

describe("the gateway's log when it cannot start (real OpenClaw)", () => {
  let home: string;
  let stateDir: string;
  let logFile: string;
  let port: number;
  const printed: string[] = [];

  const clientEnv = () => ({ HOME: home, OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_PORT: String(port) });
  /** One turn of the supervisor loop: start the gateway, wait for it to die. */
  async function startAndDie(): Promise<number | null> {
    // Not VITEST: OpenClaw silences its file log under vitest (canUseSilentVitestFileLogFastPath), a host's gateway does not.
    const env = Object.fromEntries(Object.entries(baseEnv()).filter(([key]) => !key.startsWith("VITEST")));
    const gateway = spawnProcess(process.execPath, [OPENCLAW_ENTRY, "gateway", "run", "--port", String(port), "--bind", "loopback"], { ...env, ...clientEnv() }, home);
    const timer = setTimeout(() => gateway.child.kill("SIGKILL"), START_MS);
    const code = await gateway.exited;
    clearTimeout(timer);
    printed.push(gateway.stdout, gateway.stderr);
    return code;
  }

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), "clawfleet-gwlog-it-"));
    stateDir = join(home, ".openclaw");
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    logFile = join(home, "logs", "gateway.log");
    port = await freePort();
    writeFileSync(join(stateDir, "openclaw.json"), JSON.stringify({ gateway: { mode: "local", bind: TOKEN, auth: { mode: "token", token: TOKEN } }, logging: { file: logFile } }), { mode: 0o600 });
  });
  afterAll(async () => {
    await stopAll();
    rmSync(home, { recursive: true, force: true });
  });

  it("returns the gateway's real fatal line from its file log with the token fingerprinted, and one failure is no loop", async () => {
    expect(await startAndDie()).toBe(78); // EX_CONFIG: OpenClaw's exit for a config it refuses
    // The gateway printed the token itself: this is what a log reader must not pass on.
    expect(printed.join("")).toContain(TOKEN);

    const world = discoverOpenClaw(clientEnv());
    const observer = createObserver({ world, fingerprint: localFingerprint, runner: systemRunner, platform: "linux", noteCredential: () => {}, caches: newRunCaches() });
    const log = await observer.observe(gatewayLog, [gatewayLog], "test");
    expect(log.sources).toContainEqual({ kind: "openclaw-file", where: logFile });
    const fatal = log.lines.filter((l) => l.text.startsWith(FATAL_PREFIX));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({ where: logFile, level: "ERROR" });
    expect(fatal[0]!.text).toContain(`got: "${localFingerprint(TOKEN)}"`);
    expect(Date.now() - fatal[0]!.atMs!).toBeLessThan(START_MS);
    expect(JSON.stringify(log)).not.toContain(TOKEN);

    const run = await runChecks([restartsCheck], { world, fingerprint: localFingerprint, runner: systemRunner, platform: "linux" });
    expect(run.findings.find((f) => f.check === "restarts")).toMatchObject({ status: "ok" });
  }, 2 * START_MS);

  it("names the crash loop once the supervisor has restarted it three times, with the last fatal line, with the refusal behind it as the cause of both the loop and not_running", async () => {
    expect(await startAndDie()).toBe(78);
    expect(await startAndDie()).toBe(78);

    // From the shell the gateway was started in: not under Vitest either (whose gateways write no file log).
    const { code, doc, stderr } = await agentCheckJson({ ...clientEnv(), VITEST: undefined, PATH: `${REPO_ROOT}node_modules/.bin:/usr/bin:/bin` });
    expect(code).toBe(2);
    // The loop's own cause (the refusal, a startup blocker) is the primary; the loop and the down gateway are its consequences.
    expect(doc.primary).toMatchObject({ code: "config_refused" });
    expect(doc.findings.find((f) => f.code === "crash_loop")).toMatchObject({ layer: "gateway", status: "fail", depends_on: "config_refused" });
    const loop = doc.findings.find((f) => f.code === "crash_loop")!;
    expect(loop.evidence).toMatchObject({ restarts: "3", logSource: logFile });
    expect(loop.evidence.restartSignal).toBe(`${logFile} logs 3 failed starts within 10 min`);
    expect(loop.evidence.lastFatalLine).toMatch(new RegExp(`^${FATAL_PREFIX}${join(stateDir, "openclaw.json")}: \\| openclaw\\.json:1 — gateway\\.bind: Invalid input .*got: "${localFingerprint(TOKEN)}"`));
    expect(loop.action).toContain(loop.evidence.lastFatalLine);
    expect(doc.findings.find((f) => f.code === "not_running")).toMatchObject({ depends_on: "config_refused" });
    // What this work reports never holds the token. (The tunnel check quotes gateway.bind as configured,
    // which this contrived config made the token: that is the tunnel check's to fingerprint, not this log's.)
    expect(JSON.stringify([doc.primary, ...doc.findings.filter((f) => f.layer === "gateway")])).not.toContain(TOKEN);
    expect(stderr).not.toContain(TOKEN);
  }, 3 * START_MS);
});
