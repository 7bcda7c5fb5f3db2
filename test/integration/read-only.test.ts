// The agent never changes what it inspects: `agent check` and `agent run` on a
// host where no gateway runs, and on one whose gateway was stopped with its
// SQLite state in WAL mode and a commit living only in the -wal. Every file
// under the state dir keeps its name, size, mtime, mode and bytes; no file is
// created anywhere under it, not even for a moment (a directory's mtime would
// move). Running as another uid is not possible here, so this stronger
// property stands in for "no root-owned -shm left behind".
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDER_ENV_VARS } from "../../agent/discovery/provider-env.ts";
import { localFingerprint } from "../../shared/fingerprint.ts";
import { startCollectorProcess, type TestCollector } from "../helpers/collector.ts";
import { diffSnapshots, snapshotTree, type Snapshot } from "../helpers/host-snapshot.ts";
import { createGateway, OPENCLAW_ENTRY, type TestGateway } from "../helpers/openclaw-gateway.ts";
import { freePort } from "../helpers/ports.ts";
import { agentCheckJson, baseEnv, spawnClawfleet, stopAll, type CheckDocument } from "../helpers/processes.ts";

// Obvious fakes.
const CLI_KEY = "sk-clawfleet-FAKE-readonly-cli-6d2f";
const WAL_KEY = "sk-clawfleet-FAKE-readonly-wal-only-9a4c";

// No provider key from the developer's shell may stand in for the stored ones.
const unsetProviderVars = Object.fromEntries([...new Set(Object.values(PROVIDER_ENV_VARS).flat())].map((name) => [name, undefined]));

/** Names, sizes, mtimes and modes, plus every file's bytes (as a hash). */
function fullSnapshot(root: string): { tree: Snapshot; bytes: Record<string, string> } {
  const tree = snapshotTree(root);
  const bytes: Record<string, string> = {};
  for (const [path, entry] of tree) if (entry.type === "file") bytes[path] = createHash("sha256").update(readFileSync(join(root, path))).digest("hex");
  return { tree, bytes };
}

function expectUntouched(root: string, before: ReturnType<typeof fullSnapshot>): void {
  const after = fullSnapshot(root);
  const changes = diffSnapshots(before.tree, after.tree);
  expect(changes.filter((c) => c.kind === "created"), "files created under the state dir").toEqual([]);
  expect(changes, "names, sizes, mtimes or modes changed under the state dir").toEqual([]);
  expect(after.bytes).toEqual(before.bytes);
}

/**
 * Commits `cells` into the state database with checkpoints off and is then
 * killed (SIGKILL): the commit lives only in the -wal, as after a crash or a
 * kill -9 of a gateway mid-write. (A gateway stopped cleanly leaves a -wal too,
 * but its content is the gateway's own bookkeeping, not an auth profile.)
 */
async function commitOnlyToWal(path: string, cells: Record<string, unknown>): Promise<void> {
  const script = `
    const { DatabaseSync } = require("node:sqlite");
    const db = new DatabaseSync(process.argv[1]);
    db.exec("PRAGMA wal_autocheckpoint = 0");
    const put = db.prepare("INSERT OR REPLACE INTO config_machine_state (state_key, value_json, updated_at_ms) VALUES (?, ?, ?)");
    for (const [key, value] of Object.entries(JSON.parse(process.argv[2]))) put.run(key, JSON.stringify(value), Date.now());
    console.log("committed");
    setInterval(() => {}, 1000);`;
  const child: ChildProcess = spawn(process.execPath, ["-e", script, path, JSON.stringify(cells)], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  await Promise.race([new Promise((resolve) => child.stdout!.once("data", resolve)), exited.then(() => Promise.reject(new Error(`WAL writer failed: ${stderr}`)))]);
  child.kill("SIGKILL");
  await exited;
}

const providerFinding = (doc: CheckDocument, agent: string, provider: string) => doc.findings.find((f) => f.layer === "provider" && f.evidence.agent?.split(",").includes(agent) && f.evidence.provider === provider);

describe("the agent leaves OpenClaw's state exactly as it found it", () => {
  let collector: TestCollector;
  let scratch: string;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "clawfleet-readonly-"));
    collector = await startCollectorProcess(join(scratch, "collector.db"));
  });
  afterAll(async () => {
    await stopAll();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** `agent run` until it has reported twice (every check ran at least twice), then stopped. */
  async function agentRunTwice(env: NodeJS.ProcessEnv, nodeId: string): Promise<void> {
    const agent = spawnClawfleet(["agent", "run", "--insecure", "--collector", collector.grpcAddress, "--node-id", nodeId, "--interval", "1s", "--state-dir", join(scratch, nodeId)], env);
    await agent.waitFor(/report seq=\d+[^]*report seq=\d+/, 30_000);
    await agent.stop();
    // The guard in processes.ts compared the dirs when it exited; nothing unexplained may remain.
    expect(await agent.hostChanges).toBeUndefined();
  }

  it("where no gateway runs: stores written by the real OpenClaw CLI are read, and nothing under the state dir changes", async () => {
    const home = join(scratch, "no-gateway-home");
    const stateDir = join(home, ".openclaw");
    const port = await freePort(); // nothing listens there
    const env = { ...unsetProviderVars, HOME: home, OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_PORT: String(port) };
    const cli = spawn(process.execPath, [OPENCLAW_ENTRY, "models", "auth", "paste-api-key", "--provider", "openai"], { env: { ...baseEnv(), ...env }, cwd: scratch, stdio: ["pipe", "ignore", "pipe"] });
    cli.stdin!.end(`${CLI_KEY}\n`);
    expect(await new Promise((resolve) => cli.once("exit", resolve))).toBe(0);

    const before = fullSnapshot(stateDir);
    expect(before.tree.size).toBeGreaterThan(2); // a real state dir, with its stores
    const { doc } = await agentCheckJson(env);
    expect(doc.findings.find((f) => f.check === "gateway")).toMatchObject({ code: "not_running" });
    // The key the CLI saved for the default model's provider was read from its store.
    expect(providerFinding(doc, "main", "openai")).toMatchObject({ status: "ok", evidence: { source: expect.stringMatching(/^auth store profile openai:/), fingerprint: localFingerprint(CLI_KEY) } });
    expectUntouched(stateDir, before);

    await agentRunTwice(env, "no-gateway");
    expectUntouched(stateDir, before);
  }, 90_000);

  describe("with a stopped real gateway whose state database is in WAL mode", () => {
    let gateway: TestGateway;
    let statePath: string;

    beforeAll(async () => {
      gateway = await createGateway({ token: "cf-readonly-token-3e5a7c9b1d2f4a6c", providerKey: false });
      await gateway.stop();
      statePath = join(gateway.stateDir, "state", "openclaw.sqlite");
      // The gateway itself left its -wal behind (not checkpointed into the main file on stop).
      expect(statSync(`${statePath}-wal`).size).toBeGreaterThan(0);
      const header = readFileSync(statePath).subarray(18, 20);
      expect([...header]).toEqual([2, 2]); // file format "WAL" for reads and writes
      await commitOnlyToWal(statePath, {
        "auth.sharedStore": { location: "state-db" },
        "authProfiles.store": { version: 1, profiles: { "openai:wal": { type: "api_key", provider: "openai", key: WAL_KEY } } },
      });
    });
    afterAll(async () => {
      await gateway?.cleanup();
    });

    it("finds the profile that lives only in the -wal, and changes nothing beside the database", async () => {
      // The main file alone does not have it: only a reader that replays the -wal sees it.
      const mainOnly = new DatabaseSync(`${pathToFileURL(statePath).href}?mode=ro&immutable=1`, { readOnly: true });
      expect(mainOnly.prepare("SELECT 1 FROM config_machine_state WHERE state_key = 'authProfiles.store'").get()).toBeUndefined();
      mainOnly.close();

      const before = fullSnapshot(gateway.stateDir);
      expect([...before.tree.keys()]).toEqual(expect.arrayContaining(["state/openclaw.sqlite-wal", "state/openclaw.sqlite-shm"]));
      const { doc } = await agentCheckJson({ ...unsetProviderVars, ...gateway.clientEnv() });
      expect(doc.primary).toMatchObject({ layer: "gateway", code: "not_running" });
      expect(providerFinding(doc, "main", "openai")).toMatchObject({ status: "ok", evidence: { source: "auth store profile openai:wal", fingerprint: localFingerprint(WAL_KEY), storePath: statePath } });
      expectUntouched(gateway.stateDir, before);

      await agentRunTwice({ ...unsetProviderVars, ...gateway.clientEnv() }, "stopped-gateway");
      expectUntouched(gateway.stateDir, before);
    }, 90_000);
  });
});
