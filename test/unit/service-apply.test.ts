// `agent install-service --apply` / `uninstall-service --apply` on a temp HOME,
// every launchctl/systemctl call answered by recordings through the command
// runner (this host has no launchd and no systemd user manager). Sources of
// the recordings:
// - launchctl print: test/fixtures/macos (recorded output, label swapped);
// - launchctl enable/bootstrap/bootout print nothing and exit 0 on success;
//   "Bootstrap failed: 125: Domain does not support specified action" is what
//   launchctl prints for gui/<uid> from an ssh session with no GUI login (its
//   error string as widely reported; not recorded by us);
// - systemctl --user without a bus: recorded on the CI host
//   (test/fixtures/systemd/systemctl-user-no-bus.txt and the same message for
//   daemon-reload, `systemctl --user daemon-reload; echo $?` on Debian 12);
// - systemctl --user is-active/enable/restart with a manager: systemctl(1)'s
//   documented output (state word on stdout, exit 3 when inactive; "Created
//   symlink …" on stderr for enable), not recorded here.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CommandRunner, Recording } from "../../agent/platform/command-runner.ts";
import { AGENT_LAUNCHD_LABEL, AGENT_SYSTEMD_UNIT } from "../../agent/service/agent-service-spec.ts";
import { applyAgentService, applyUninstall, planUninstall } from "../../agent/service/apply-service.ts";
import { planAgentService, type HostContext } from "../../agent/service/install-plan.ts";
import { launcherPath } from "../../agent/service/program-paths.ts";
import { runInstallService, runUninstallService } from "../../agent/service/service-commands.ts";
import { UsageError } from "../../shared/cli.ts";
import { loadFixture } from "../fixtures/macos/recording.ts";

const MACOS = join(import.meta.dirname, "../fixtures/macos");
const SYSTEMD = join(import.meta.dirname, "../fixtures/systemd");
const GATEWAY_TOKEN = "test-gateway-token-a991e5a991e5a991e5";

/**
 * Like replayRunner, but a command may answer differently each time it is
 * asked (launchctl print before and after bootstrap): recordings are consumed
 * in order, the last one repeats. Unrecorded commands exit 127.
 */
function sequenceRunner(table: Record<string, Recording[]>, calls: string[]): CommandRunner {
  const next = new Map<string, number>();
  return {
    async run(command, args) {
      const key = [command, ...args].join(" ");
      calls.push(key);
      const list = table[key];
      if (!list || list.length === 0) return { exitCode: 127, stdout: "", stderr: `${command}: not found` };
      const i = next.get(key) ?? 0;
      next.set(key, i + 1);
      const r = list[Math.min(i, list.length - 1)]!;
      return { exitCode: r.exitCode ?? 0, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    },
  };
}

function capture(): { stream: Writable; text: () => string } {
  let text = "";
  const stream = new Writable({ write(chunk, _encoding, done) { text += String(chunk); done(); } });
  return { stream, text: () => text };
}

const printRunning = (label: string): Recording => {
  const f = loadFixture(join(MACOS, "launchctl-print-running.txt"));
  return { stdout: f.stdout!.replaceAll("ai.openclaw.gateway", label), exitCode: 0 };
};
const printNotLoaded = (label: string): Recording => {
  const f = loadFixture(join(MACOS, "launchctl-print-not-loaded.txt"));
  return { stderr: f.stderr!.replaceAll("ai.openclaw.gateway", label), exitCode: 113 };
};
const noBus = (): Recording => {
  const f = loadFixture(join(SYSTEMD, "systemctl-user-no-bus.txt"));
  return { stderr: f.stderr, exitCode: f.exitCode };
};

describe("install-service --apply and uninstall-service --apply", () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "clawfleet-svc-apply-"));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  const host = (platform: NodeJS.Platform, table: Record<string, Recording[]>, calls: string[]): HostContext => ({
    platform,
    runner: sequenceRunner(table, calls),
    // Everything the service code locates comes from here: never this machine's real HOME or XDG dirs.
    env: { HOME: home, USER: "mini", PATH: "/usr/bin:/bin" },
    home,
    uid: 501,
    userName: "mini",
    hostname: "mini-07",
  });
  const plan = (h: HostContext) =>
    planAgentService({ ...h, flags: { collector: "10.0.0.9:4317", nodeId: "mini-07", interval: "30s", stateDir: join(home, "state") }, execPath: process.execPath, nodePath: "/opt/homebrew/bin/node", launcher: "/opt/homebrew/lib/node_modules/clawfleet/bin/clawfleet.js", version: "0.0.0-test" });

  describe("launchd", () => {
    const label = AGENT_LAUNCHD_LABEL;
    const target = `gui/501/${label}`;
    const gatewayNotLoaded = { "launchctl print gui/501/ai.openclaw.gateway": [printNotLoaded("ai.openclaw.gateway")] };

    it("writes the plist 0644 under ~/Library/LaunchAgents and bootstraps it into gui/<uid>", async () => {
      const calls: string[] = [];
      const h = host("darwin", {
        ...gatewayNotLoaded,
        [`launchctl print ${target}`]: [printNotLoaded(label), printRunning(label)],
        [`launchctl enable ${target}`]: [{}],
        [`launchctl bootstrap gui/501 ${join(home, "Library", "LaunchAgents", `${label}.plist`)}`]: [{}],
      }, calls);
      const p = await plan(h);
      expect(p.path.startsWith(home)).toBe(true);
      const result = await applyAgentService(p, h);
      expect(result.ok).toBe(true);
      expect(readFileSync(p.path, "utf8")).toBe(p.content);
      expect(statSync(p.path).mode & 0o777).toBe(0o644);
      expect(existsSync(join(home, "Library", "Logs"))).toBe(true);
      expect(calls.filter((c) => !c.includes("ai.openclaw.gateway"))).toEqual([
        `launchctl print ${target}`, `launchctl enable ${target}`, `launchctl bootstrap gui/501 ${p.path}`, `launchctl print ${target}`,
      ]);
      expect(result.messages.join("\n")).toMatch(new RegExp(`Loaded ${target}: running, pid 1076`));
    });

    it("replaces a loaded job: bootout first, since launchd keeps the job it loaded", async () => {
      const calls: string[] = [];
      const h = host("darwin", {
        ...gatewayNotLoaded,
        [`launchctl print ${target}`]: [printRunning(label), printRunning(label)],
        [`launchctl bootout ${target}`]: [{}],
        [`launchctl enable ${target}`]: [{}],
        [`launchctl bootstrap gui/501 ${join(home, "Library", "LaunchAgents", `${label}.plist`)}`]: [{}],
      }, calls);
      const result = await applyAgentService(await plan(h), h);
      expect(result.ok).toBe(true);
      expect(calls.filter((c) => c.startsWith("launchctl") && c.includes(label)).map((c) => c.split(" ")[1])).toEqual(["print", "bootout", "enable", "bootstrap", "print"]);
      expect(result.messages.join("\n")).toContain("replacing the job that was loaded");
    });

    it("fails with the reason when there is no GUI session to load into, leaving the plist in place", async () => {
      const calls: string[] = [];
      const h = host("darwin", {
        ...gatewayNotLoaded,
        [`launchctl print ${target}`]: [printNotLoaded(label)],
        [`launchctl enable ${target}`]: [{}],
        [`launchctl bootstrap gui/501 ${join(home, "Library", "LaunchAgents", `${label}.plist`)}`]: [{ stderr: "Bootstrap failed: 125: Domain does not support specified action\n", exitCode: 125 }],
      }, calls);
      const p = await plan(h);
      const result = await applyAgentService(p, h);
      expect(result.ok).toBe(false);
      expect(result.messages.join("\n")).toMatch(/launchctl bootstrap failed \(exit 125: Bootstrap failed: 125: Domain does not support specified action\)[\s\S]*log in to mini's desktop/);
      expect(existsSync(p.path)).toBe(true);
    });

    it("uninstall: boots the job out and removes the plist; a second run finds nothing to do", async () => {
      const calls: string[] = [];
      const path = join(home, "Library", "LaunchAgents", `${label}.plist`);
      mkdirSync(join(home, "Library", "LaunchAgents"), { recursive: true });
      writeFileSync(path, "<plist/>");
      const h = host("darwin", { [`launchctl print ${target}`]: [printRunning(label), printNotLoaded(label)], [`launchctl bootout ${target}`]: [{}] }, calls);
      const first = await applyUninstall(await planUninstall(h), h);
      expect(first.ok).toBe(true);
      expect(existsSync(path)).toBe(false);
      expect(calls).toEqual([`launchctl print ${target}`, `launchctl bootout ${target}`]);
      expect(first.messages).toEqual([`Unloaded ${target}.`, `Removed ${path}.`]);
      const second = await applyUninstall(await planUninstall(h), h);
      expect(second).toMatchObject({ ok: true, messages: [`${target} was not loaded.`, `${path} did not exist.`] });
    });
  });

  describe("systemd", () => {
    const unit = AGENT_SYSTEMD_UNIT;
    const unitPath = () => join(home, ".config", "systemd", "user", unit);
    const discovery = () => ({ "systemctl --user show-environment": [noBus()], "loginctl show-user mini --property=Linger": [{ stdout: "Linger=yes\n" }] });

    it("with a user manager: daemon-reload, enable --now, and reports the unit active", async () => {
      const calls: string[] = [];
      const h = host("linux", {
        ...discovery(),
        "systemctl --user daemon-reload": [{}],
        [`systemctl --user is-active ${unit}`]: [{ stdout: "inactive\n", exitCode: 3 }, { stdout: "active\n" }],
        [`systemctl --user enable --now ${unit}`]: [{ stderr: `Created symlink ${home}/.config/systemd/user/default.target.wants/${unit} → ${unitPath()}.\n` }],
      }, calls);
      const p = await plan(h);
      expect(p.path).toBe(unitPath());
      const result = await applyAgentService(p, h);
      expect(result.ok).toBe(true);
      expect(readFileSync(unitPath(), "utf8")).toBe(p.content);
      expect(calls.filter((c) => c.includes(unit) || c.includes("daemon-reload"))).toEqual([
        "systemctl --user daemon-reload", `systemctl --user is-active ${unit}`, `systemctl --user enable --now ${unit}`, `systemctl --user is-active ${unit}`,
      ]);
      expect(result.messages.at(-1)).toBe(`Enabled and started ${unit} (active). Logs: journalctl --user -u ${unit}.`);
    });

    it("restarts a unit that was already running, so the new definition takes effect", async () => {
      const calls: string[] = [];
      const h = host("linux", {
        ...discovery(),
        "systemctl --user daemon-reload": [{}],
        [`systemctl --user is-active ${unit}`]: [{ stdout: "active\n" }],
        [`systemctl --user enable --now ${unit}`]: [{}],
        [`systemctl --user restart ${unit}`]: [{}],
      }, calls);
      const result = await applyAgentService(await plan(h), h);
      expect(result.ok).toBe(true);
      expect(calls).toContain(`systemctl --user restart ${unit}`);
      expect(result.messages.at(-1)).toContain("Enabled and restarted");
    });

    it("without a user manager (this CI host): writes the unit, exits non-zero, and says how to load it", async () => {
      const calls: string[] = [];
      const h = host("linux", { ...discovery(), "systemctl --user daemon-reload": [noBus()] }, calls);
      const out = capture();
      const status = await runInstallService({ collector: "10.0.0.9:4317", "node-id": "mini-07", apply: true }, h, out.stream);
      expect(status).toBe(1);
      expect(existsSync(unitPath())).toBe(true);
      expect(out.text()).toContain("The systemd user manager is not reachable (Failed to connect to bus: No medium found)");
      expect(out.text()).toContain(`sudo loginctl enable-linger mini`);
      expect(out.text()).toContain(`systemctl --user daemon-reload && systemctl --user enable --now ${unit}`);
      expect(calls).not.toContain(`systemctl --user enable --now ${unit}`);
    });

    it("uninstall: disable --now, remove the file, daemon-reload", async () => {
      const calls: string[] = [];
      mkdirSync(join(home, ".config", "systemd", "user"), { recursive: true });
      writeFileSync(unitPath(), "[Service]\nExecStart=/bin/true\n");
      const h = host("linux", { [`systemctl --user disable --now ${unit}`]: [{ stderr: `Removed "${home}/.config/systemd/user/default.target.wants/${unit}".\n` }], "systemctl --user daemon-reload": [{}] }, calls);
      const result = await applyUninstall(await planUninstall(h), h);
      expect(result.ok).toBe(true);
      expect(existsSync(unitPath())).toBe(false);
      expect(calls).toEqual([`systemctl --user disable --now ${unit}`, "systemctl --user daemon-reload"]);
    });
  });

  describe("the commands", () => {
    it("dry run by default: prints the unit and where it would go, writes nothing, runs no manager command that changes state", async () => {
      const calls: string[] = [];
      const h = host("linux", { "systemctl --user show-environment": [noBus()], "loginctl show-user mini --property=Linger": [{ stdout: "Linger=no\n" }] }, calls);
      const out = capture();
      const status = await runInstallService({ collector: "10.0.0.9:4317", "node-id": "mini-07" }, { ...h, env: { ...h.env, OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN } }, out.stream);
      expect(status).toBe(0);
      expect(out.text()).toContain(`Would write ${join(home, ".config", "systemd", "user", AGENT_SYSTEMD_UNIT)}`);
      // This Node (by a stable name when one resolves to it) and this package's launcher.
      const exec = /^ExecStart=(\S+) (?:--\S+ )*(\S+) agent run --collector 10\.0\.0\.9:4317 --node-id mini-07 /m.exec(out.text());
      expect(exec && realpathSync(exec[1]!)).toBe(realpathSync(process.execPath));
      expect(exec?.[2]).toBe(launcherPath());
      expect(out.text()).toContain("Nothing written. Run again with --apply");
      expect(out.text()).not.toContain(GATEWAY_TOKEN);
      expect(existsSync(join(home, ".config"))).toBe(false);
      expect(calls.every((c) => / show-environment$| show |^loginctl show-user /.test(c))).toBe(true);
    });

    it("names the default collector when none is given, and rejects flags `agent run` would reject", async () => {
      const h = host("linux", { "systemctl --user show-environment": [noBus()] }, []);
      const out = capture();
      await runInstallService({ "node-id": "mini-07" }, h, out.stream);
      expect(out.text()).toContain("No --collector given: the agent will report to 127.0.0.1:4317");
      await expect(runInstallService({ collector: "no-port" }, h, capture().stream)).rejects.toThrow(UsageError);
      await expect(runInstallService({ "node-id": "Mini 07" }, h, capture().stream)).rejects.toThrow(/--node-id/);
      await expect(runInstallService({ interval: "500ms" }, h, capture().stream)).rejects.toThrow(/at least 1s/);
      await expect(runInstallService({ "state-dir": "relative/dir" }, h, capture().stream)).rejects.toThrow(/absolute/);
    });

    it("uninstall dry run lists the commands and changes nothing", async () => {
      const calls: string[] = [];
      const h = host("darwin", {}, calls);
      const out = capture();
      expect(await runUninstallService({}, h, out.stream)).toBe(0);
      expect(out.text()).toContain(`launchctl bootout gui/501/${AGENT_LAUNCHD_LABEL}`);
      expect(out.text()).toContain("Nothing changed.");
      expect(calls).toEqual([]);
    });
  });
});
