// The agent never changes what it inspects, proved on every scenario: each
// `clawfleet agent check|run` a test starts (processes.ts) is bracketed by
// snapshots of the OpenClaw dirs it reads (state dir, config file's dir, the
// user's service unit dir), and any difference the gateway did not make fails
// the test (test/setup/host-guard.ts).
//
// What counts as the gateway's, and nothing else:
// - a test gateway (openclaw-gateway.ts) starting, stopping or reacting to a
//   test's edit, and the edit itself: bracketed by snapshots, the watch carries
//   on from the state after it (harnessChange);
// - while it runs, new content in a file it holds open (its SQLite -wal/-shm),
//   read from /proc/<pid>/fd at the end of each interval. Same type and mode,
//   nothing created or removed. A gateway that is not running explains nothing,
//   so scenarios with a stopped gateway or none are held to "no difference at all".
import { existsSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { openclawHome, openclawStateDir } from "../../agent/discovery/openclaw-world.ts";
import { describeChanges, diffSnapshots, snapshotTree, type Change, type Snapshot, type SnapshotOptions } from "./host-snapshot.ts";

interface Root {
  path: string;
  options: SnapshotOptions;
}

interface Watch {
  label: string;
  roots: Root[];
  baseline: Snapshot[];
}

interface Gateway {
  stateDir: string;
  pid(): number | undefined;
}

const gateways = new Set<Gateway>();
const watches = new Set<Watch>();
const violations: string[] = [];

/** A test gateway for `stateDir`; its process is asked for its open files when a watched dir changes. */
export function registerGateway(stateDir: string, pid: () => number | undefined): () => void {
  const gateway = { stateDir: resolve(stateDir), pid };
  gateways.add(gateway);
  return () => gateways.delete(gateway);
}

/** Starts watching for `clawfleet ARGS` when it is `agent check` or `agent run`; undefined otherwise. */
export function watchAgent(args: readonly string[], env: NodeJS.ProcessEnv): Watch | undefined {
  if (args[0] !== "agent" || (args[1] !== "check" && args[1] !== "run")) return undefined;
  return startWatch(`clawfleet ${args.slice(0, 2).join(" ")}`, agentRoots(args, env));
}

/** The same watch for checks run another way (in-process, or as another user): end it with endWatch. */
export function watchChecks(label: string, env: NodeJS.ProcessEnv): Watch {
  return startWatch(label, agentRoots([], env));
}

function startWatch(label: string, roots: Root[]): Watch {
  const watch = { label, roots, baseline: roots.map((r) => snapshotTree(r.path, r.options)) };
  watches.add(watch);
  return watch;
}

/**
 * Ends a watch: undefined when nothing but the gateway changed, else what
 * changed. Kept for the after-each check unless the caller fails the test itself.
 */
export function endWatch(watch: Watch, options: { reported?: boolean } = {}): string | undefined {
  if (!watches.delete(watch)) return undefined;
  return checkSegment(watch, options.reported !== true);
}

/** Changes between two snapshots of `root` that no running test gateway explains. */
export function unexplainedChanges(root: string, before: Snapshot, after: Snapshot): Change[] {
  const changes = diffSnapshots(before, after);
  const created = changes.filter((c) => lazyStoreCreated(root, c));
  // A directory's mtime moves when an entry is created in it: explained when every such entry is.
  const explainedParents = new Set(created.map((c) => parentOf(c.path)));
  return changes.filter((c) => !madeByGateway(root, c) && !created.includes(c) && !(dirStampOnly(c) && explainedParents.has(c.path) && onlyExplainedChildren(c.path, changes, created)));
}

/**
 * A running OpenClaw 2026.9.6 gateway creates its agent's store
 * (agents/<id>/agent/openclaw-agent.sqlite and its -wal/-shm, with the dirs on
 * the way) and state/openclaw-quarantine.sqlite lazily, on its own schedule
 * after start (seen once in a fresh-clone run, 72 s after start, all within
 * 140 ms). Only those paths, only under a state dir whose gateway is alive; any
 * other creation is still the agent's. The agent opens SQLite read-only or
 * immutable (agent/discovery/sqlite-read.ts) and cannot create these.
 */
const LAZY_GATEWAY_STORES = [/^agents(\/[^/]+(\/agent(\/openclaw-agent\.sqlite(-wal|-shm|-journal)?)?)?)?$/, /^state\/openclaw-quarantine\.sqlite(-wal|-shm|-journal)?$/];

function lazyStoreCreated(root: string, change: Change): boolean {
  if (change.kind !== "created") return false;
  const path = join(root, change.path);
  return [...gateways].some((g) => {
    const pid = g.pid();
    if (pid === undefined || !existsSync(`/proc/${pid}`) || !isWithin(g.stateDir, path)) return false;
    const inStateDir = relative(g.stateDir, path).split(sep).join("/");
    return LAZY_GATEWAY_STORES.some((pattern) => pattern.test(inStateDir));
  });
}

/** Snapshot keys are "/"-joined relative paths and "." for the root (host-snapshot.ts). */
const parentOf = (path: string) => (path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".");

function dirStampOnly(change: Change): boolean {
  const { before, after } = change;
  return change.kind === "changed" && before!.type === "dir" && after!.type === "dir" && before!.mode === after!.mode && before!.uid === after!.uid && before!.size === after!.size;
}

/** Every created or removed entry directly in `dir` is one of the explained creations. */
function onlyExplainedChildren(dir: string, changes: readonly Change[], explained: readonly Change[]): boolean {
  return changes.filter((c) => c.kind !== "changed" && parentOf(c.path) === dir).every((c) => explained.includes(c));
}

/**
 * Runs something the harness does to OpenClaw's files while an agent may be
 * running: a gateway starting, stopping or reacting to an edit, a test editing
 * the state dir as an operator would. Watches over `dir` are checked up to it
 * and go on from the state it leaves; its own changes are not the agent's.
 */
export function harnessChange<T>(dir: string, action: () => T): T {
  const target = resolve(dir);
  const affected = [...watches].filter((w) => w.roots.some((r) => isWithin(target, r.path) || isWithin(r.path, target)));
  for (const watch of affected) checkSegment(watch);
  const rebase = () => {
    for (const watch of affected) watch.baseline = watch.roots.map((r) => snapshotTree(r.path, r.options));
  };
  let result: T;
  try {
    result = action();
  } catch (error) {
    rebase();
    throw error;
  }
  if (result instanceof Promise) return result.finally(rebase) as T;
  rebase();
  return result;
}

/** Every unexplained change since the last call. */
export function takeViolations(): string[] {
  return violations.splice(0);
}

function checkSegment(watch: Watch, keep = true): string | undefined {
  const reports: string[] = [];
  watch.roots.forEach((root, i) => {
    const after = snapshotTree(root.path, root.options);
    const unexplained = unexplainedChanges(root.path, watch.baseline[i]!, after);
    if (unexplained.length > 0) reports.push(describeChanges(root.path, unexplained));
    watch.baseline[i] = after;
  });
  if (reports.length === 0) return undefined;
  const report = `${watch.label} changed OpenClaw's files:\n${reports.join("\n")}`;
  if (keep) violations.push(report);
  return report;
}

function madeByGateway(root: string, change: Change): boolean {
  const { before, after } = change;
  if (controlUiStamp(root, change)) return true;
  if (change.kind !== "changed" || before!.type !== "file" || after!.type !== "file" || before!.mode !== after!.mode || before!.uid !== after!.uid) return false;
  const path = join(root, change.path);
  return [...gateways].some((g) => (isWithin(g.stateDir, path) ? openFiles(g.pid()).has(path) : false));
}

/**
 * A running gateway re-stamps its Control UI asset generation directories
 * (server-start publishGeneration utimes(), openclaw 2026.9.6) on its own
 * schedule, seconds after start-up: an mtime-only change of a directory under
 * <stateDir>/cache/control-ui-assets, while a gateway for that state dir is
 * alive. The agent reads nothing under cache/.
 */
function controlUiStamp(root: string, change: Change): boolean {
  const { before, after } = change;
  if (change.kind !== "changed" || before!.type !== "dir" || after!.type !== "dir" || before!.mode !== after!.mode || before!.uid !== after!.uid) return false;
  const path = join(root, change.path);
  return [...gateways].some((g) => {
    const pid = g.pid();
    return pid !== undefined && existsSync(`/proc/${pid}`) && isWithin(join(g.stateDir, "cache", "control-ui-assets"), path);
  });
}

/** Paths a process and its descendants hold open (Linux /proc; elsewhere nothing, so nothing is explained). */
function openFiles(pid: number | undefined): Set<string> {
  const open = new Set<string>();
  if (pid === undefined) return open;
  for (const p of [pid, ...descendants(pid)]) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${p}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        open.add(readlinkSync(`/proc/${p}/fd/${fd}`));
      } catch {
        // closed meanwhile
      }
    }
  }
  return open;
}

function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) for (const child of children.get(queue.shift()!) ?? []) out.push(child), queue.push(child);
  return out;
}

/** What the agent reads that OpenClaw owns, resolved as the agent resolves it. */
function agentRoots(args: readonly string[], env: NodeJS.ProcessEnv): Root[] {
  const stateDir = openclawStateDir(env);
  const home = openclawHome(env);
  const own = [flagValue(args, "--state-dir"), env.CLAWFLEET_DATA_DIR].filter((p): p is string => !!p).map((p) => resolve(p));
  const roots: Root[] = [{ path: stateDir, options: { exclude: own } }];
  const configPath = env.OPENCLAW_CONFIG_PATH?.trim() ? resolve(env.OPENCLAW_CONFIG_PATH) : undefined;
  if (configPath && !isWithin(stateDir, configPath)) roots.push({ path: resolve(configPath, ".."), options: { depth: 0, exclude: own } });
  roots.push({ path: join(home, ".config", "systemd", "user"), options: { exclude: own } });
  roots.push({ path: join(home, "Library", "LaunchAgents"), options: { exclude: own } });
  return roots;
}

function flagValue(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
}

function isWithin(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !rel.startsWith(sep) && rel !== "..");
}
