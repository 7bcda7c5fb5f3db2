// Child processes for tests: output captured, waits bounded, always cleaned up.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { endWatch, watchAgent } from "./openclaw-host-guard.ts";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CLAWFLEET_BIN = fileURLToPath(new URL("../../bin/clawfleet.js", import.meta.url));

export interface Spawned {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when the combined output matches; rejects after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** For `agent check|run`: what it changed in OpenClaw's dirs once it exited (undefined: nothing). */
  hostChanges?: Promise<string | undefined>;
}

const running = new Set<Spawned>();

export function spawnProcess(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = REPO_ROOT): Spawned {
  const child = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  child.stdout!.on("data", (chunk) => {
    stdout += chunk;
    listeners.forEach((l) => l());
  });
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
    listeners.forEach((l) => l());
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? -1 : null))));
  const spawned: Spawned = {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = (stdout + stderr).match(pattern);
          if (match) {
            cleanup();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern} from ${command} ${args.join(" ")}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        }, timeoutMs);
        const onExit = () => {
          check();
          cleanup();
          reject(new Error(`${command} ${args.join(" ")} exited before printing ${pattern}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off("exit", onExit);
        };
        listeners.add(check);
        child.once("exit", onExit);
        check();
      });
    },
    exited,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGCONT");
        child.kill(signal);
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(spawned);
      return exited;
    },
  };
  running.add(spawned);
  return spawned;
}

/**
 * Starts `clawfleet ARGS` on the Node running the tests (Node 24). An `agent
 * check|run` is watched from before it starts until it exits: it must leave
 * OpenClaw's dirs as it found them (openclaw-host-guard.ts).
 */
export function spawnClawfleet(args: string[], env: NodeJS.ProcessEnv = {}, options: { callerReportsHostChanges?: boolean } = {}): Spawned {
  const fullEnv = { ...baseEnv(), ...env };
  const watch = watchAgent(args, fullEnv);
  const spawned = spawnProcess(process.execPath, [CLAWFLEET_BIN, ...args], fullEnv);
  if (watch) spawned.hostChanges = spawned.exited.then(() => endWatch(watch, { reported: options.callerReportsHostChanges === true }));
  return spawned;
}

/** Runs `clawfleet ARGS` to completion; an `agent check|run` that changed OpenClaw's files throws, naming them. */
export async function runClawfleet(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const spawned = spawnClawfleet(args, env, { callerReportsHostChanges: true });
  const timer = setTimeout(() => spawned.child.kill("SIGKILL"), timeoutMs);
  const code = await spawned.exited;
  clearTimeout(timer);
  running.delete(spawned);
  const changed = await spawned.hostChanges;
  if (changed) throw new Error(changed);
  return { code, stdout: spawned.stdout, stderr: spawned.stderr };
}

/** A minimal environment: no OpenClaw or clawfleet variables leak in from the developer's shell. */
export function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("OPENCLAW_") && !key.startsWith("CLAWFLEET_")) env[key] = value;
  }
  env.NO_COLOR = "1";
  return env;
}

/**
 * Stops every process a test file started: agents first, so each is judged
 * against its dirs while the gateway whose own writes explain changes still runs.
 */
export async function stopAll(): Promise<void> {
  const agents = [...running].filter((p) => p.hostChanges);
  await Promise.all(agents.map((p) => p.stop("SIGKILL")));
  await Promise.all([...running].map((p) => p.stop("SIGKILL")));
}

/** The clawfleet.check.v1 document as `agent check --json` prints it. */
export interface CheckDocument {
  schema: string;
  node: { id: string; hostname: string; platform: string };
  verdict: string;
  primary: { layer: string; code: string; summary: string; action: string } | null;
  findings: { check: string; layer: string; status: string; code: string | null; summary: string; action: string | null; evidence: Record<string, string>; depends_on?: string }[];
  credentials: { kind: string; source: string; fingerprint: string; subject: string }[];
  duration_ms: number;
}

/** Runs `clawfleet agent check --json`; a run that prints no JSON fails with what it printed. */
export async function agentCheckJson(env: NodeJS.ProcessEnv, args: string[] = []): Promise<{ code: number | null; doc: CheckDocument; stdout: string; stderr: string }> {
  const result = await runClawfleet(["agent", "check", "--json", ...args], env);
  try {
    return { ...result, doc: JSON.parse(result.stdout) as CheckDocument };
  } catch {
    throw new Error(`agent check printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}
