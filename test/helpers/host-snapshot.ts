// What a directory tree looks like from outside: every entry's relative name,
// type, size, mtime, mode and owner (atimes are left out: reading moves them;
// the owner is in because a file left behind by a root-run agent would lock
// the gateway's user out of it). Two
// snapshots diff into the entries created, removed or changed in between.
import { lstatSync, readdirSync, type Stats } from "node:fs";
import { join } from "node:path";

export interface Entry {
  type: "file" | "dir" | "symlink" | "other";
  size: number;
  mtimeMs: number;
  mode: number;
  uid: number;
}

/** Relative path → entry; "." is the root itself, absent when the root does not exist. */
export type Snapshot = Map<string, Entry>;

export interface Change {
  path: string;
  kind: "created" | "removed" | "changed";
  before?: Entry;
  after?: Entry;
}

export interface SnapshotOptions {
  /** Directory levels to descend below the root (default: all). */
  depth?: number;
  /** Absolute paths left out with everything under them (the agent's own state dir when it lives inside). */
  exclude?: readonly string[];
}

export function snapshotTree(root: string, options: SnapshotOptions = {}): Snapshot {
  const snapshot: Snapshot = new Map();
  const rootStat = statOrUndefined(root);
  if (!rootStat) return snapshot;
  snapshot.set(".", entryOf(rootStat));
  const exclude = new Set(options.exclude ?? []);
  const walk = (dir: string, rel: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return; // unreadable to us: its own entry still records size, mtime and mode
    }
    for (const name of names) {
      const path = join(dir, name);
      if (exclude.has(path)) continue;
      const stat = statOrUndefined(path);
      if (!stat) continue; // gone between readdir and lstat
      const relative = rel ? `${rel}/${name}` : name;
      snapshot.set(relative, entryOf(stat));
      if (stat.isDirectory() && depth > 0) walk(path, relative, depth - 1);
    }
  };
  if (rootStat.isDirectory()) walk(root, "", options.depth ?? Number.POSITIVE_INFINITY);
  return snapshot;
}

export function diffSnapshots(before: Snapshot, after: Snapshot): Change[] {
  const changes: Change[] = [];
  for (const [path, entry] of before) {
    const now = after.get(path);
    if (!now) changes.push({ path, kind: "removed", before: entry });
    else if (!sameEntry(entry, now)) changes.push({ path, kind: "changed", before: entry, after: now });
  }
  for (const [path, entry] of after) if (!before.has(path)) changes.push({ path, kind: "created", after: entry });
  return changes.sort((a, b) => a.path.localeCompare(b.path));
}

/** One line per change, for a failure message a person can act on. */
export function describeChanges(root: string, changes: readonly Change[]): string {
  const show = (e?: Entry) => (e ? `${e.type} ${e.size} B mtime ${new Date(e.mtimeMs).toISOString()} mode ${(e.mode & 0o7777).toString(8)} uid ${e.uid}` : "-");
  return changes.map((c) => `${c.kind} ${join(root, c.path)}: ${show(c.before)} → ${show(c.after)}`).join("\n");
}

function sameEntry(a: Entry, b: Entry): boolean {
  return a.type === b.type && a.size === b.size && a.mtimeMs === b.mtimeMs && a.mode === b.mode && a.uid === b.uid;
}

function entryOf(stat: Stats): Entry {
  const type = stat.isFile() ? "file" : stat.isDirectory() ? "dir" : stat.isSymbolicLink() ? "symlink" : "other";
  return { type, size: stat.size, mtimeMs: stat.mtimeMs, mode: stat.mode, uid: stat.uid };
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
