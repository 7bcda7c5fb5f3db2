// The guard every agent scenario runs under (test/helpers/openclaw-host-guard.ts):
// it sees what changed under OpenClaw's dirs and explains only what a running
// gateway or the harness itself did, nothing more.
import { spawn } from "node:child_process";
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { diffSnapshots, snapshotTree } from "../helpers/host-snapshot.ts";
import { endWatch, harnessChange, registerGateway, watchAgent, watchChecks } from "../helpers/openclaw-host-guard.ts";

describe("host snapshots and the read-only guard", () => {
  let home: string;
  let stateDir: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "clawfleet-guard-"));
    stateDir = join(home, ".openclaw");
    mkdirSync(join(stateDir, "state"), { recursive: true });
    writeFileSync(join(stateDir, "openclaw.json"), "{}");
    env = { HOME: home, OPENCLAW_STATE_DIR: stateDir };
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it("tells created, removed and changed entries apart, by size, mtime, mode or owner", () => {
    const before = snapshotTree(stateDir);
    writeFileSync(join(stateDir, "new"), "x");
    rmSync(join(stateDir, "openclaw.json"));
    chmodSync(join(stateDir, "state"), 0o700);
    expect(diffSnapshots(before, snapshotTree(stateDir)).map((c) => `${c.kind} ${c.path}`)).toEqual(["changed .", "created new", "removed openclaw.json", "changed state"]);
    const same = snapshotTree(stateDir);
    utimesSync(join(stateDir, "new"), new Date(), new Date(Date.now() - 60_000)); // only the mtime moves
    expect(diffSnapshots(same, snapshotTree(stateDir)).map((c) => `${c.kind} ${c.path}`)).toEqual(["changed new"]);
  });

  it("watches only agent check and agent run, and reports any file an agent run created, even one it removed again", () => {
    expect(watchAgent(["collector", "serve"], env)).toBeUndefined();
    const watch = watchAgent(["agent", "check", "--json"], env)!;
    writeFileSync(join(stateDir, "state", "openclaw.sqlite-shm"), "");
    rmSync(join(stateDir, "state", "openclaw.sqlite-shm"));
    // Gone again, but its directory's mtime moved.
    expect(endWatch(watch, { reported: true })).toMatch(/clawfleet agent check changed OpenClaw's files:\nchanged .*\/\.openclaw\/state: dir/);
  });

  it("leaves out the agent's own state dir, and explains what the harness did", async () => {
    const own = join(stateDir, "clawfleet-agent");
    const watch = watchAgent(["agent", "run", "--state-dir", own], env)!;
    harnessChange(stateDir, () => mkdirSync(own)); // the test made it: not the agent's doing
    writeFileSync(join(own, "node.seq"), "1"); // the agent's own files
    await harnessChange(stateDir, async () => writeFileSync(join(stateDir, ".env"), "OPENCLAW_GATEWAY_TOKEN=x\n"));
    expect(endWatch(watch, { reported: true })).toBeUndefined();
  });

  it("explains new content in a file a running gateway holds open, and nothing else", async () => {
    const wal = join(stateDir, "state", "openclaw.sqlite-wal");
    writeFileSync(wal, "");
    // Stands in for the gateway: holds its -wal open and appends to it when told.
    const gateway = spawn(process.execPath, ["-e", `const fs = require("node:fs"); const fd = fs.openSync(process.argv[1], "a"); process.stdin.on("data", () => { fs.writeSync(fd, "frame"); console.log("wrote"); }); console.log("open");`, wal], { stdio: ["pipe", "pipe", "inherit"] });
    const said = (word: string) => new Promise<void>((resolve) => gateway.stdout!.on("data", (chunk) => String(chunk).includes(word) && resolve()));
    await said("open");
    const unregister = registerGateway(stateDir, () => gateway.pid);
    try {
      const watch = watchChecks("checks", env);
      const wrote = said("wrote");
      gateway.stdin!.write("go\n");
      await wrote;
      expect(endWatch(watch, { reported: true })).toBeUndefined();

      // The same kind of write to a file it does not hold open is not its doing.
      const other = watchChecks("checks", env);
      appendFileSync(join(stateDir, "openclaw.json"), " ");
      expect(endWatch(other, { reported: true })).toMatch(/changed .*openclaw\.json: file 2 B .* → file 3 B/);
    } finally {
      unregister();
      gateway.kill();
    }
    // A stopped gateway explains nothing.
    const after = watchChecks("checks", env);
    appendFileSync(wal, "frame");
    expect(endWatch(after, { reported: true })).toMatch(/openclaw\.sqlite-wal/);
  });

  it("explains a running gateway re-stamping its Control UI asset generation, and no other directory's change", async () => {
    const generation = join(stateDir, "cache", "control-ui-assets", "c2efe869");
    mkdirSync(generation, { recursive: true });
    const gateway = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    const unregister = registerGateway(stateDir, () => gateway.pid);
    const later = (Date.now() + 5000) / 1000;
    try {
      const watch = watchChecks("checks", env);
      utimesSync(generation, later, later);
      expect(endWatch(watch, { reported: true })).toBeUndefined();
      // The same stamp on a directory outside the asset cache is not explained.
      const other = watchChecks("checks", env);
      utimesSync(join(stateDir, "state"), later, later);
      expect(endWatch(other, { reported: true })).toMatch(/changed .*state: dir/);
    } finally {
      unregister();
      gateway.kill();
    }
    // With no gateway alive, nothing is explained.
    await new Promise((r) => setTimeout(r, 100));
    const after = watchChecks("checks", env);
    utimesSync(generation, later + 10, later + 10);
    expect(endWatch(after, { reported: true })).toMatch(/control-ui-assets/);
  });

  it("explains a running gateway creating its agent store and quarantine store lazily, and no other creation", async () => {
    const gateway = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    const unregister = registerGateway(stateDir, () => gateway.pid);
    // Directory mtimes have a 1 ms or coarser tick: make the stamps visible.
    await new Promise((r) => setTimeout(r, 20));
    try {
      const watch = watchChecks("checks", env);
      const agentDir = join(stateDir, "agents", "main", "agent");
      mkdirSync(agentDir, { recursive: true });
      for (const suffix of ["", "-wal", "-shm"]) writeFileSync(join(agentDir, `openclaw-agent.sqlite${suffix}`), "x");
      writeFileSync(join(stateDir, "state", "openclaw-quarantine.sqlite"), "x");
      expect(endWatch(watch, { reported: true })).toBeUndefined();
      // Any other file created beside them is not the gateway's lazy store, and its directory's stamp is not explained either.
      await new Promise((r) => setTimeout(r, 20));
      const other = watchChecks("checks", env);
      writeFileSync(join(stateDir, "state", "agent-was-here.sqlite"), "x");
      const report = endWatch(other, { reported: true });
      expect(report).toMatch(/created .*agent-was-here\.sqlite/);
      expect(report).toMatch(/changed .*state: dir/);
    } finally {
      unregister();
      gateway.kill();
    }
    // With no gateway alive, the same creation is not explained.
    await new Promise((r) => setTimeout(r, 100));
    const after = watchChecks("checks", env);
    mkdirSync(join(stateDir, "agents", "ops", "agent"), { recursive: true });
    expect(endWatch(after, { reported: true })).toMatch(/created .*agents\/ops/);
  });
});
