// The restarts check: crash loops seen by launchd and systemd (recorded
// manager output replayed, on temp HOMEs with the service files OpenClaw's own
// builders write), by this daemon across runs, by a second gateway, by a port
// changing owner (a real listener), and by the gateway's own log lines.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CRASH_LOOP_WINDOW_MS, restartsCheck } from "../../agent/checks/restarts.ts";
import { LOOP_BREAKER_TEXT } from "../../agent/discovery/gateway-fatal-lines.ts";
import { runChecks } from "../../agent/checks/run-checks.ts";
import { FATAL_LINES, matchFatalLine } from "../../agent/discovery/gateway-fatal-lines.ts";
import type { ServiceDefinition } from "../../agent/discovery/gateway-service.ts";
import { discoverOpenClaw, type OpenClawWorld } from "../../agent/discovery/openclaw-world.ts";
import type { GatewayLog, LogLine } from "../../agent/observations/gateway-log.ts";
import { newRunCaches } from "../../agent/observations/run-caches.ts";
import { replayRunner, type CommandRunner, type Recording } from "../../agent/platform/command-runner.ts";
import { linkDependencies, primaryFinding, problem } from "../../shared/finding.ts";
import { localFingerprint } from "../../shared/fingerprint.ts";
import { fill, loadFixture, recordings } from "../fixtures/macos/recording.ts";
import { freePort } from "../helpers/ports.ts";
import { shiftTimes } from "../helpers/log-times.ts";

const FIXTURES = join(import.meta.dirname, "../fixtures");
const RECORDED_TOKEN = "Zq9SECRETtokenValue4242abcdXY";
const UID = process.getuid?.() ?? 0;
const FATAL = "Gateway failed to start: Invalid config at /Users/mini/.openclaw/openclaw.json:";

describe("the restarts check", () => {
  let home: string;
  let stateDir: string;
  let world: OpenClawWorld;
  beforeEach(async () => {
    home = mkdtempSync(join(tmpdir(), "clawfleet-restarts-"));
    stateDir = join(home, ".openclaw");
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, "openclaw.json"), JSON.stringify({ gateway: { auth: { token: RECORDED_TOKEN } }, logging: { file: join(home, "no-file-log.log") } }));
    world = discoverOpenClaw({ HOME: home, OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_PORT: String(await freePort()) });
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  const run = async (runner: CommandRunner, platform: NodeJS.Platform, preset: Record<string, unknown> = {}, caches = newRunCaches()) =>
    (await runChecks([restartsCheck], { world, fingerprint: localFingerprint, runner, platform, caches, preset: new Map(Object.entries(preset)) })).findings.filter((f) => f.check === "restarts");
  const service = (fields: Partial<ServiceDefinition>): ServiceDefinition => ({
    manager: "systemd", name: "openclaw-gateway.service", loaded: true, programArguments: [], environment: {}, environmentSources: {}, envFiles: [], servicePath: "/usr/bin", ...fields,
  });
  const quiet = { services: { services: [], errors: [] }, "gateway-processes": [], "port-owner": { listenAddresses: [] }, "gateway-log": { sources: [], lines: [] } satisfies GatewayLog };

  describe("launchd", () => {
    const launchctl = (name: string): Record<string, Recording> => {
      const recorded = loadFixture(join(FIXTURES, "macos", name));
      return recordings({ ...recorded, command: `launchctl print gui/${UID}/ai.openclaw.gateway`, stdout: recorded.stdout!.replaceAll("/Users/mini", home) });
    };
    beforeEach(() => {
      mkdirSync(join(home, "Library", "LaunchAgents"), { recursive: true });
      mkdirSync(join(home, "Library", "Logs", "openclaw"), { recursive: true });
      writeFileSync(join(home, "Library", "LaunchAgents", "ai.openclaw.gateway.plist"), readFileSync(join(FIXTURES, "macos/ai.openclaw.gateway.plist.template"), "utf8").replaceAll("{{HOME}}", home).replaceAll("{{STATE_DIR}}", stateDir));
    });

    it("reports crash_loop for a job launchd parked after many runs, with the last fatal line from its StandardOutPath", async () => {
      const console = join(home, "Library", "Logs", "openclaw", "gateway.log");
      writeFileSync(console, shiftTimes(readFileSync(join(FIXTURES, "openclaw-log/console-config-invalid.log"), "utf8").replaceAll("/tmp/lg-exp/home", home), Date.now() - 30_000));
      const [finding] = await run(replayRunner(launchctl("launchctl-print-crash-loop.txt")), "darwin");
      expect(finding).toMatchObject({ status: "fail", code: "crash_loop", layer: "gateway" });
      expect(finding!.evidence).toMatchObject({ restarts: "14", lastExitStatus: "78", logSource: console });
      expect(finding!.evidence.restartSignal).toContain("launchd started ai.openclaw.gateway 14 times and it is not running, last exit 78");
      expect(finding!.evidence.lastFatalLine).toBe(`Gateway failed to start: Invalid config at ${stateDir}/openclaw.json: | openclaw.json:1 — gateway.bind: Invalid input (allowed: "auto", "lan", "loopback", "custom", "tailnet"), got: "${localFingerprint(RECORDED_TOKEN)}" | Run "openclaw doctor --fix" to repair, then retry. | If startup is still blocked, inspect the adjacent .bak backup before restoring it manually.`);
      expect(finding!.action).toContain(finding!.evidence.lastFatalLine);
      expect(JSON.stringify(finding)).not.toContain(RECORDED_TOKEN);
    });

    it("passes a running job with one run", async () => {
      const [finding] = await run(replayRunner(launchctl("launchctl-print-running.txt")), "darwin");
      expect(finding).toMatchObject({ status: "ok", code: "" });
    });
  });

  describe("systemd", () => {
    const units = () => join(home, ".config", "systemd", "user");
    const show = (restarts: number, startedAt?: Date): Record<string, Recording> => {
      const fixture = fill(loadFixture(join(FIXTURES, "systemd/systemctl-show-failed.txt")), { HOME: home, STATE_DIR: stateDir });
      let stdout = fixture.stdout!.replace(/^NRestarts=\d+$/m, `NRestarts=${restarts}`);
      if (startedAt) {
        const at = startedAt.toISOString().replace("T", " ").slice(0, 19);
        stdout = stdout.replace(/^ExecMainStartTimestamp=.*$/m, `ExecMainStartTimestamp=Sat ${at} UTC`).replace(/^ExecMainExitTimestamp=.*$/m, `ExecMainExitTimestamp=Sat ${at} UTC`);
      }
      return recordings(fill(loadFixture(join(FIXTURES, "systemd/systemctl-show-environment.txt")), { HOME: home }), { ...fixture, stdout });
    };
    beforeEach(() => {
      mkdirSync(units(), { recursive: true });
      writeFileSync(join(units(), "openclaw-gateway.service"), readFileSync(join(FIXTURES, "systemd/openclaw-gateway.service.template"), "utf8").replaceAll("{{HOME}}", home).replaceAll("{{STATE_DIR}}", stateDir));
    });

    it("reports crash_loop when NRestarts is high and the unit last (re)started inside the window", async () => {
      const [finding] = await run(replayRunner(show(5, new Date(Date.now() - 120_000))), "linux", { "gateway-processes": [], "port-owner": { listenAddresses: [] } });
      expect(finding).toMatchObject({ code: "crash_loop", evidence: { restarts: "5", lastExitStatus: "78" } });
      expect(finding!.evidence.restartSignal).toMatch(/^systemd restarted openclaw-gateway\.service 5 times, the last at /);
    });

    it("does not call restarts long ago a loop on one look, but sees the counter climb between two runs of the daemon", async () => {
      const caches = newRunCaches();
      const preset = { "gateway-processes": [], "port-owner": { listenAddresses: [] } };
      const [first] = await run(replayRunner(show(5)), "linux", preset, caches);
      expect(first).toMatchObject({ status: "ok" });
      const [second] = await run(replayRunner(show(9)), "linux", preset, caches);
      expect(second).toMatchObject({ code: "crash_loop", evidence: { restarts: "4" } });
      expect(second!.evidence.restartSignal).toContain("systemd openclaw-gateway.service NRestarts went from 5 to 9 in 1 min");
      // A unit started by hand resets NRestarts: the old samples no longer count.
      const [third] = await run(replayRunner(show(0)), "linux", preset, caches);
      expect(third).toMatchObject({ status: "ok" });
    });
  });

  it("reports crash_loop when two gateway processes serve this state dir", async () => {
    const env = { OPENCLAW_STATE_DIR: stateDir };
    const [finding] = await run(replayRunner({}), "linux", { ...quiet, "gateway-processes": [{ pid: 4101, argv: ["openclaw-gateway"], env }, { pid: 4177, argv: ["openclaw-gateway"], env }, { pid: 5000, argv: ["openclaw-gateway"], env: { OPENCLAW_STATE_DIR: "/elsewhere" } }] });
    expect(finding).toMatchObject({ code: "crash_loop" });
    expect(finding!.evidence.restartSignal).toBe(`2 gateway processes serve ${stateDir} (pids 4101, 4177)`);
  });

  describe("a port that changes owner", () => {
    let server: Server;
    afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("reports crash_loop when another process listens on the port at the second look", async () => {
      server = createServer();
      await new Promise<void>((resolve) => server.listen(world.port, "127.0.0.1", resolve));
      const [finding] = await run(replayRunner({}), "linux", { ...quiet, "port-owner": { listenAddresses: ["127.0.0.1"], pid: process.pid + 100_000 } });
      expect(finding).toMatchObject({ code: "crash_loop" });
      expect(finding!.evidence.restartSignal).toBe(`port ${world.port} changed owner from pid ${process.pid + 100_000} to pid ${process.pid} within a second`);
      const [steady] = await run(replayRunner({}), "linux", { ...quiet, "port-owner": { listenAddresses: ["127.0.0.1"], pid: process.pid } });
      expect(steady).toMatchObject({ status: "ok" });
      // A listener up for longer than the window cannot be flapping: no second look (which would see this process), no wait.
      const settled = { listenAddresses: ["127.0.0.1"], pid: process.pid + 100_000, gateway: { pid: process.pid + 100_000, argv: ["openclaw-gateway"], startedAtMs: Date.now() - 3600_000, tokenOnCommandLine: false } };
      const [old] = await run(replayRunner({}), "linux", { ...quiet, "port-owner": settled });
      expect(old).toMatchObject({ status: "ok" });
    });
  });

  describe("the gateway's own words", () => {
    const line = (where: string, ago: number, text: string, level = "ERROR"): LogLine => ({ where, atMs: Date.now() - ago, level, text });

    it("reports crash_loop for three failed starts in one source within the window, not for one failure seen in two sources", async () => {
      const looping = [1, 2, 3].map((i) => line("/logs/gw.log", i * 60_000, FATAL));
      const [finding] = await run(replayRunner({}), "linux", { ...quiet, "gateway-log": { sources: [], lines: looping } });
      expect(finding).toMatchObject({ code: "crash_loop", evidence: { restarts: "3", lastFatalLine: FATAL, logSource: "/logs/gw.log" } });
      const twice = [line("/logs/gw.log", 60_000, FATAL), line("gateway.log", 60_000, FATAL), line("/logs/gw.log", 120_000, FATAL), line("gateway.log", 120_000, FATAL)];
      expect((await run(replayRunner({}), "linux", { ...quiet, "gateway-log": { sources: [], lines: twice } }))[0]).toMatchObject({ status: "ok" });
      const stale = [1, 2, 3].map((i) => line("/logs/gw.log", CRASH_LOOP_WINDOW_MS + i * 60_000, FATAL));
      expect((await run(replayRunner({}), "linux", { ...quiet, "gateway-log": { sources: [], lines: stale } }))[0]).toMatchObject({ status: "ok" });
    });

    it("reports crash_loop when OpenClaw's own restart-loop breaker tripped", async () => {
      const lines = [line("/logs/gw.log", 5000, `${LOOP_BREAKER_TEXT}: 3 unclean boot(s) within 300000ms; suppressing channel/provider account auto-start.`)];
      const [finding] = await run(replayRunner({}), "linux", { ...quiet, "gateway-log": { sources: [], lines } });
      expect(finding!.evidence.restartSignal).toBe("the gateway's own restart-loop breaker tripped (/logs/gw.log)");
    });
  });

  it("matches the real refusal against the fatal-line table", () => {
    expect(FATAL_LINES.map((e) => e.prefix)).toContain("Invalid config at ");
    expect(matchFatalLine(FATAL)?.entry).toMatchObject({ prefix: "Invalid config at ", code: "config_refused" });
    expect(matchFatalLine("[gateway] starting...")).toBeUndefined();
  });

  it("makes a crash loop the cause of not_running", () => {
    const findings = linkDependencies([problem("gateway", "not_running", "down"), problem("restarts", "crash_loop", "looping")]);
    expect(findings.find((f) => f.code === "not_running")!.dependsOn).toBe("crash_loop");
    expect(primaryFinding(findings)?.code).toBe("crash_loop");
  });

  it("uses a systemd ServiceDefinition's counters as the manager reported them", async () => {
    const recent = Date.now() - 60_000;
    const [finding] = await run(replayRunner({}), "linux", { ...quiet, services: { services: [service({ runs: 3, startedAtMs: recent, state: "activating", lastExitStatus: 1 })], errors: [] } });
    expect(finding).toMatchObject({ code: "crash_loop", evidence: { restarts: "3", lastExitStatus: "1" } });
  });
});
