// What each way of opening a WAL-mode SQLite file does to its directory
// (the measurement behind agent/discovery/sqlite-read.ts), and that readSqlite
// sees every commit while changing nothing: names, sizes, mtimes, modes.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readSqlite, StoreBusyError, sweepStaleCopies } from "../../agent/discovery/sqlite-read.ts";
import { diffSnapshots, snapshotTree } from "../helpers/host-snapshot.ts";

/** Writes `base` and checkpoints it into the main file, then commits `wal-only` with checkpoints off and dies (SIGKILL): the -wal keeps it, as after a gateway crash. */
const CRASHED_WRITER = `
  const { DatabaseSync } = require("node:sqlite");
  const db = new DatabaseSync(process.argv[1]);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (k TEXT PRIMARY KEY)");
  db.exec("INSERT INTO t VALUES ('base'); PRAGMA wal_checkpoint(TRUNCATE);");
  db.exec("INSERT INTO t VALUES ('wal-only')");
  console.log("committed");
  setInterval(() => {}, 1000);`;

/** Commits forever, checkpointing every few pages; a + b stays 0 in every commit. */
const BUSY_WRITER = `
  const { DatabaseSync } = require("node:sqlite");
  const db = new DatabaseSync(process.argv[1]);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 8; CREATE TABLE IF NOT EXISTS t (a INTEGER, b INTEGER, pad BLOB); INSERT INTO t VALUES (0, 0, NULL);");
  const step = db.prepare("UPDATE t SET a = a + 1, b = b - 1, pad = randomblob(3000)");
  console.log("writing");
  for (;;) step.run();`;

function run(script: string, path: string, ready: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["-e", script, path], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.stdout!.once("data", (chunk) => (String(chunk).includes(ready) ? resolve(child) : reject(new Error(String(chunk)))));
    child.once("exit", (code) => reject(new Error(`writer exited ${code}`)));
  });
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}

const keys = (db: DatabaseSync) => (db.prepare("SELECT k FROM t ORDER BY k").all() as { k: string }[]).map((r) => r.k);

describe("reading a SQLite store without writing beside it", () => {
  let dir: string;
  let privateTmp: string;
  let savedTmp: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-sqlite-read-"));
    // readSqlite's copies go to os.tmpdir(): a private one shows whether any is left behind.
    savedTmp = process.env.TMPDIR;
    privateTmp = mkdtempSync(join(tmpdir(), "clawfleet-sqlitetest-"));
    process.env.TMPDIR = privateTmp;
  });
  afterEach(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    rmSync(dir, { recursive: true, force: true });
    rmSync(privateTmp, { recursive: true, force: true });
  });

  async function crashedStore(withShm: boolean): Promise<string> {
    const path = join(dir, "store.sqlite");
    await kill(await run(CRASHED_WRITER, path, "committed"));
    if (!withShm) rmSync(`${path}-shm`);
    expect(readdirSync(dir).sort()).toEqual(withShm ? ["store.sqlite", "store.sqlite-shm", "store.sqlite-wal"] : ["store.sqlite", "store.sqlite-wal"]);
    return path;
  }

  for (const withShm of [true, false]) {
    it(`measures the open modes on a -wal holding a commit (-shm ${withShm ? "present" : "absent"})`, async () => {
      const path = await crashedStore(withShm);
      const before = snapshotTree(dir);
      await new Promise((r) => setTimeout(r, 20)); // mtimes have ms resolution

      // A plain read-only open sees the commit, but writes the -shm (or creates it).
      const plain = new DatabaseSync(path, { readOnly: true });
      expect(keys(plain)).toEqual(["base", "wal-only"]);
      plain.close();
      const afterPlain = diffSnapshots(before, snapshotTree(dir));
      expect(afterPlain.map((c) => `${c.kind} ${c.path}`)).toEqual(withShm ? ["changed store.sqlite-shm"] : ["changed .", "created store.sqlite-shm"]);
      if (!withShm) rmSync(`${path}-shm`);

      // immutable=1 writes nothing, and misses the commit in the -wal.
      const quiet = snapshotTree(dir);
      const immutable = new DatabaseSync(`${pathToFileURL(path).href}?mode=ro&immutable=1`, { readOnly: true });
      expect(keys(immutable)).toEqual(["base"]);
      immutable.close();
      expect(diffSnapshots(quiet, snapshotTree(dir))).toEqual([]);

      // readSqlite: the commit, and nothing changed here or left in the temp dir.
      expect(readSqlite(path, keys)).toEqual(["base", "wal-only"]);
      expect(diffSnapshots(quiet, snapshotTree(dir))).toEqual([]);
      expect(readdirSync(privateTmp)).toEqual([]);
    });
  }

  it("removes a private copy an agent killed mid-read left behind (it holds secrets), and no other directory", () => {
    const stale = join(privateTmp, "clawfleet-sqlite-killed");
    const live = join(privateTmp, "clawfleet-sqlite-live01");
    const other = join(privateTmp, "clawfleet-sqlite-notacopy");
    for (const d of [stale, live, other]) mkdirSync(d);
    const old = (Date.now() - 20 * 60_000) / 1000;
    utimesSync(stale, old, old);
    utimesSync(other, old, old);
    sweepStaleCopies(Date.now(), privateTmp);
    expect(readdirSync(privateTmp).sort()).toEqual(["clawfleet-sqlite-live01", "clawfleet-sqlite-notacopy"]);
    for (const d of [live, other]) rmSync(d, { recursive: true });
  });

  it("opens a store with no -wal content in place, changing nothing", () => {
    const path = join(dir, "closed.sqlite");
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT); INSERT INTO t VALUES ('only');");
    db.close(); // the last connection checkpoints and removes the -wal
    const before = snapshotTree(dir);
    expect(readSqlite(path, keys)).toEqual(["only"]);
    expect(diffSnapshots(before, snapshotTree(dir))).toEqual([]);
    expect(readdirSync(privateTmp)).toEqual([]);
  });

  it("never reads a torn copy while a writer commits and checkpoints: a consistent commit, or busy (transient)", async () => {
    const path = join(dir, "busy.sqlite");
    const writer = await run(BUSY_WRITER, path, "writing");
    const outcomes = { ok: 0, busy: 0 };
    try {
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline && outcomes.ok + outcomes.busy < 150) {
        try {
          const row = readSqlite(path, (db) => db.prepare("SELECT a, b, length(pad) AS pad FROM t").get() as { a: number; b: number; pad: number });
          expect(row.a + row.b).toBe(0);
          outcomes.ok++;
        } catch (error) {
          // Anything but "changed under every copy" (a corrupt or half-written copy) fails here.
          expect(error).toBeInstanceOf(StoreBusyError);
          outcomes.busy++;
        }
      }
    } finally {
      await kill(writer);
    }
    console.log("reads during a busy writer:", outcomes);
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(readdirSync(privateTmp)).toEqual([]);
  });
});
