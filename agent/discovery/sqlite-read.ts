// Reads one of OpenClaw's SQLite files without writing a byte beside it.
//
// Measured with node:sqlite (Node 24) on a WAL-mode database whose -wal holds a
// commit not yet in the main file (test/unit/sqlite-read.test.ts repeats it):
//   { readOnly: true } or ?mode=ro  creates a 32 KiB -shm when there is none and
//                                   rewrites an existing one (its mtime moves):
//                                   run as root, that leaves a root-owned -shm the
//                                   gateway cannot open.
//   ?mode=ro&immutable=1            changes nothing, but ignores the -wal, so a
//                                   commit that lives only there is not seen.
// So: immutable when no -wal or -journal has content (the main file is the whole
// database); otherwise a private copy of the set, in a 0700 temp dir of ours,
// opened there (SQLite replays the copied -wal, or rolls back a hot -journal, in
// the copy) and removed after. A writer mid-commit or checkpointing would make the
// copied files disagree, so the set is copied again when any file changed under
// us, and after a few tries the read is reported as transient.
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync, type BigIntStats } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { pathToFileURL } from "node:url";

/** Files SQLite keeps beside a database whose content belongs to it (not -shm: an index SQLite rebuilds from the -wal). */
const SIDECARS = ["-wal", "-journal"] as const;
const COPY_ATTEMPTS = 3;
const COPY_PREFIX = "clawfleet-sqlite-";
/** A copy this old was left by an agent killed mid-read (a read takes milliseconds). */
const STALE_COPY_MS = 10 * 60_000;
let staleCopiesSwept = false;

/**
 * A copy holds the store's secrets: one left behind by a killed agent is
 * removed by the next agent process that copies (its own uid's only).
 */
export function sweepStaleCopies(nowMs: number, root = tmpdir()): void {
  const uid = process.getuid?.();
  // mkdtemp's names exactly: the prefix and six random characters.
  const ours = new RegExp(`^${COPY_PREFIX}[A-Za-z0-9]{6}$`);
  for (const name of readdirSync(root).filter((n) => ours.test(n))) {
    const dir = join(root, name);
    try {
      const info = statSync(dir);
      if (info.isDirectory() && (uid === undefined || info.uid === uid) && nowMs - info.mtimeMs > STALE_COPY_MS) rmSync(dir, { recursive: true, force: true });
    } catch {
      // Gone meanwhile, or not ours to look at.
    }
  }
}

/** The store changed under every copy attempt: a writer is busy, worth a retry rather than an alarm. */
export class StoreBusyError extends Error {
  readonly transient = true;
}

/** Runs `read` on the database at `path`; nothing in its directory is created, changed or removed. */
export function readSqlite<T>(path: string, read: (db: DatabaseSync) => T): T {
  for (let attempt = 0; attempt < COPY_ATTEMPTS; attempt++) {
    const sidecars = SIDECARS.filter((suffix) => (fileStat(path + suffix)?.size ?? 0n) > 0n);
    if (sidecars.length === 0) return withDatabase(new DatabaseSync(`${pathToFileURL(path).href}?mode=ro&immutable=1`, { readOnly: true }), read);
    if (!staleCopiesSwept) {
      staleCopiesSwept = true;
      sweepStaleCopies(Date.now());
    }
    const dir = mkdtempSync(join(tmpdir(), COPY_PREFIX));
    try {
      const copy = join(dir, basename(path));
      if (!copyConsistent(path, copy, sidecars)) continue;
      // Read-write on purpose: it is our copy, and replaying a hot -journal writes.
      return withDatabase(new DatabaseSync(copy), read);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  throw new StoreBusyError(`${path} changed while being copied (${COPY_ATTEMPTS} tries): a writer is busy`);
}

function withDatabase<T>(db: DatabaseSync, read: (db: DatabaseSync) => T): T {
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** Copies the database and its sidecars; false when any of them changed (or went) meanwhile. */
function copyConsistent(path: string, copy: string, sidecars: readonly string[]): boolean {
  const files = ["", ...sidecars];
  const before = files.map((suffix) => identity(path + suffix));
  try {
    for (const suffix of files) copyFileSync(path + suffix, copy + suffix);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false; // checkpointed and removed under us
    throw error;
  }
  const after = files.map((suffix) => identity(path + suffix));
  return before.every((id, i) => id !== undefined && id === after[i]);
}

/**
 * The database and its -wal/-journal as one identity (inode, size, mtime and
 * ctime of each): equal identities read the same rows, so a daemon may keep
 * what it read until this changes. Undefined when the database is missing, and
 * while any of the files changed within RACY_WINDOW_MS: a second write inside
 * one timestamp tick (a jiffy; a second on HFS+) would leave the identity as it
 * was, so a fresh file is not vouched for.
 */
export function databaseIdentity(path: string, nowMs = Date.now()): string | undefined {
  const stats = ["", ...SIDECARS].map((suffix) => fileStat(path + suffix));
  if (!stats[0] || stats.some((s) => s && nowMs - Number(s.mtimeNs / 1_000_000n) < RACY_WINDOW_MS)) return undefined;
  return stats.map((s) => (s ? `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}` : "-")).join(" ");
}

const RACY_WINDOW_MS = 2000;

/** Inode, size and change time in nanoseconds: any write or replacement moves one of them. */
function identity(path: string): string | undefined {
  const stat = fileStat(path);
  return stat && `${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
}

function fileStat(path: string): BigIntStats | undefined {
  try {
    return statSync(path, { bigint: true });
  } catch {
    return undefined;
  }
}
