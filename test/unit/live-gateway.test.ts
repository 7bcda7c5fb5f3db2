// The listener on the gateway port, found from /proc (Linux) and lsof/ps
// (macOS, replayed from recorded output): addresses, pid, start time, install.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { darwinPortOwner, findInstallDir, linuxPortOwner, newPortOwnerMemory } from "../../agent/discovery/live-gateway.ts";
import { tokenFromArgv } from "../../agent/discovery/token-sources.ts";
import { replayRunner } from "../../agent/platform/command-runner.ts";
import { decodeAddress, listeningSockets } from "../../agent/platform/linux-procfs.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url);
const fixture = (path: string) => readFileSync(new URL(path, FIXTURES), "utf8");

describe("/proc listeners", () => {
  let proc: string;
  beforeEach(() => {
    proc = mkdtempSync(join(tmpdir(), "clawfleet-proc-"));
    mkdirSync(join(proc, "net"));
    cpSync(new URL("procfs/net-tcp.txt", FIXTURES), join(proc, "net", "tcp"));
    cpSync(new URL("procfs/net-tcp6.txt", FIXTURES), join(proc, "net", "tcp6"));
    writeFileSync(join(proc, "stat"), "cpu  1 2 3\nbtime 1795595152\n");
  });
  afterEach(() => rmSync(proc, { recursive: true, force: true }));

  /** A fake process directory shaped like /proc/<pid>: cmdline, environ, stat, fd links. */
  function processDir(pid: number, argv: string[], inode: string, env: Record<string, string>, extraFd?: string) {
    const dir = join(proc, String(pid));
    mkdirSync(join(dir, "fd"), { recursive: true });
    writeFileSync(join(dir, "cmdline"), argv.join("\0") + "\0");
    writeFileSync(join(dir, "environ"), Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\0") + "\0");
    // comm contains a space and a parenthesis on purpose: fields are counted after the last ")".
    writeFileSync(join(dir, "stat"), `${pid} (openclaw gw) S 1 ${pid} ${pid} 0 -1 4194560 1 0 0 0 1 1 0 0 20 0 16 0 18632 5257355264 158643\n`);
    writeFileSync(join(dir, "status"), `Name:\topenclaw-gateway\nUid:\t501\t501\t501\t501\n`);
    symlinkSync(`socket:[${inode}]`, join(dir, "fd", "23"));
    if (extraFd) symlinkSync(extraFd, join(dir, "fd", "24"));
    symlinkSync("/usr/local/bin/node", join(dir, "exe"));
  }

  it("decodes host-order hex addresses, IPv4, IPv6 and v4-mapped", () => {
    expect(decodeAddress("0100007F")).toBe("127.0.0.1");
    expect(decodeAddress("00000000")).toBe("0.0.0.0");
    expect(decodeAddress("00000000000000000000000001000000")).toBe("::1");
    expect(decodeAddress("00000000000000000000000000000000")).toBe("::");
    expect(decodeAddress("0000000000000000FFFF00000100007F")).toBe("127.0.0.1");
    expect(decodeAddress("B80D0120000000000000000001000000")).toBe("2001:db8::1");
  });

  it("lists only LISTEN sockets on the port, IPv4 and IPv6", async () => {
    expect(await listeningSockets(28789, proc)).toEqual([
      { inode: "5946", address: "127.0.0.1", port: 28789 },
      { inode: "5947", address: "::1", port: 28789 },
    ]);
    expect((await listeningSockets(18789, proc)).map((s) => s.address)).toEqual(["0.0.0.0", "::"]);
  });

  it("finds the owning process, its start time, state dir and token flag", async () => {
    processDir(4242, ["openclaw-gateway", "--token", "cf-unit-token-abcdef123456"], "41001", { HOME: "/home/ops" }, "/home/ops/.openclaw/state/openclaw.sqlite");
    processDir(4243, ["sleep", "100"], "99999", {});
    const owner = await linuxPortOwner(18789, proc);
    expect(owner.listenAddresses).toEqual(["0.0.0.0", "::"]);
    expect(owner.pid).toBe(4242);
    expect(owner.gateway).toMatchObject({ pid: 4242, uid: 501, ppid: 1, exe: "/usr/local/bin/node", stateDir: "/home/ops/.openclaw", tokenOnCommandLine: true });
    // btime + 18632 ticks / 100 Hz
    expect(owner.gateway!.startedAtMs).toBe((1795595152 + 186.32) * 1000);
    expect(tokenFromArgv(owner.gateway!.argv)).toBe("cf-unit-token-abcdef123456");
  });

  it("a daemon remembers the socket owner and looks again when another process holds the socket", async () => {
    processDir(4242, ["openclaw-gateway"], "41001", { HOME: "/home/ops" });
    const memory = newPortOwnerMemory();
    expect((await linuxPortOwner(18789, proc, memory)).pid).toBe(4242);
    expect([...memory.socketOwners.values()]).toEqual([4242]);
    expect((await linuxPortOwner(18789, proc, memory)).gateway).toMatchObject({ pid: 4242, argv: ["openclaw-gateway"] });
    // The same socket handed to another process (the first exited): the remembered pid no longer holds it.
    rmSync(join(proc, "4242"), { recursive: true });
    processDir(4300, ["openclaw-gateway", "--port", "18789"], "41001", { HOME: "/home/ops" });
    const moved = await linuxPortOwner(18789, proc, memory);
    expect(moved.pid).toBe(4300);
    expect(moved.gateway!.argv).toEqual(["openclaw-gateway", "--port", "18789"]);
    expect([...memory.socketOwners.values()]).toEqual([4300]);
  });

  it("a daemon keeps a gateway's install and state dir for the life of its process, and looks again for a new process", async () => {
    const install = mkdtempSync(join(tmpdir(), "clawfleet-install-"));
    try {
      const openclaw = join(install, "node_modules", "openclaw");
      mkdirSync(openclaw, { recursive: true });
      writeFileSync(join(openclaw, "package.json"), JSON.stringify({ name: "openclaw", version: "2026.9.6" }));
      processDir(4242, ["openclaw-gateway"], "41001", { HOME: "/home/ops" }, "/home/ops/.openclaw/state/openclaw.sqlite");
      symlinkSync(join(openclaw, "dist", "index.js"), join(proc, "4242", "fd", "25"));
      const memory = newPortOwnerMemory();
      const first = await linuxPortOwner(18789, proc, memory);
      expect(first.gateway).toMatchObject({ installDir: openclaw, version: "2026.9.6", stateDir: "/home/ops/.openclaw" });
      expect(memory.gatewayPaths.size).toBe(1);
      // Updated on disk while it runs: the manifest is read each time, the paths are the process's.
      writeFileSync(join(openclaw, "package.json"), JSON.stringify({ name: "openclaw", version: "2026.9.7" }));
      expect((await linuxPortOwner(18789, proc, memory)).gateway).toMatchObject({ installDir: openclaw, version: "2026.9.7", stateDir: "/home/ops/.openclaw" });
      // Restarted as the same pid serving another state dir: a new start time is a new process.
      rmSync(join(proc, "4242"), { recursive: true });
      processDir(4242, ["openclaw-gateway"], "41001", { HOME: "/home/ops" }, "/srv/other/state/openclaw.sqlite");
      writeFileSync(join(proc, "4242", "stat"), `4242 (openclaw gw) S 1 4242 4242 0 -1 4194560 1 0 0 0 1 1 0 0 20 0 16 0 99999 5257355264 158643\n`);
      expect((await linuxPortOwner(18789, proc, memory)).gateway).toMatchObject({ stateDir: "/srv/other", installDir: undefined });
    } finally {
      rmSync(install, { recursive: true, force: true });
    }
  });

  it("says nothing listens when no socket is in LISTEN state on the port", async () => {
    expect(await linuxPortOwner(5555, proc)).toEqual({ listenAddresses: [] });
  });
});

describe("macOS listener (recorded lsof/ps output)", () => {
  it("finds pid, addresses, start time, executable, state dir and install from lsof and ps", async () => {
    const calls: string[] = [];
    const runner = replayRunner({
      "lsof -nP -iTCP:18789 -sTCP:LISTEN -Fpcn": { stdout: fixture("macos-process/lsof-listen.txt") },
      "ps -o lstart=,uid=,command= -p 812": { stdout: fixture("macos-process/ps-lstart.txt") },
      "lsof -nP -p 812 -Ffn": { stdout: fixture("macos-process/lsof-open.txt") },
      "ps -axo pid=,ppid=,command=": { stdout: fixture("macos-process/ps-table.txt") },
    }, calls);
    const owner = await darwinPortOwner(18789, runner);
    expect(owner.listenAddresses).toEqual(["127.0.0.1", "::1"]);
    expect(owner.gateway).toMatchObject({
      pid: 812,
      uid: 501,
      exe: "/opt/homebrew/Cellar/node@24/24.21.0/bin/node",
      stateDir: "/Users/ops/.openclaw",
      installDir: "/opt/homebrew/lib/node_modules/openclaw",
      tokenOnCommandLine: false,
    });
    expect(new Date(owner.gateway!.startedAtMs!).getFullYear()).toBe(2026);
    expect(calls.every((c) => !c.includes("thermlog"))).toBe(true);
  });

  it("reports nothing when lsof finds no listener (exit 1, empty output)", async () => {
    const owner = await darwinPortOwner(18789, replayRunner({ "lsof -nP -iTCP:18789 -sTCP:LISTEN -Fpcn": { exitCode: 1 } }));
    expect(owner).toEqual({ listenAddresses: [] });
  });
});

describe("install directory", () => {
  it("comes from a worker's argv or a mapped native module", () => {
    expect(findInstallDir(["/usr/bin/node", "/opt/x/lib/node_modules/openclaw/dist/process/spawn-broker/worker.js"])).toBe("/opt/x/lib/node_modules/openclaw");
    expect(findInstallDir(["/home/ops/.npm-global/lib/node_modules/openclaw/openclaw.mjs"])).toBe("/home/ops/.npm-global/lib/node_modules/openclaw");
    expect(findInstallDir(["/nowhere/node_modules/@openclaw/fs-safe/x.node"])).toBeUndefined();
  });
});
