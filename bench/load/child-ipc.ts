// The parent side of a load generator running in its own process, so the load
// is not limited by (or billed to) the process that measures. Each child speaks
// the same small IPC protocol: it says "ready" once its load runs, counts from
// "window-start", answers "window-end" with what it saw, and exits on "stop".
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { processCpuSeconds } from "../harness.ts";

export interface WindowStats {
  /** Reports (or pushes) answered during the window. */
  done: number;
  /** Send-to-answer times in ms during the window (a sample when there were many). */
  latenciesMs: number[];
  errors: number;
  errorKinds: Record<string, number>;
  /** Nodes the server never welcomed (our load only). */
  notWelcomed?: number;
}

export interface GeneratorChild {
  child: ChildProcess;
  ready: Promise<Record<string, unknown>>;
  windowStart(): void;
  windowEnd(): Promise<WindowStats>;
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
/** Kills every generator child still running: for a bench that ran over its budget. */
export function killGenerators(): void {
  for (const child of live) child.kill("SIGKILL");
  live.clear();
}

export function forkGenerator(script: "collector-load-child.ts" | "push-child.ts", config: unknown): GeneratorChild {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [JSON.stringify(config)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => (live.delete(child), resolve())));
  const next = (type: string) =>
    new Promise<any>((resolve, reject) => {
      const onMessage = (m: { type: string }) => {
        if (m.type !== type) return;
        child.off("message", onMessage);
        resolve(m);
      };
      child.on("message", onMessage);
      exited.then(() => reject(new Error(`load generator ${script} exited before "${type}"`)));
    });
  return {
    child,
    ready: next("ready"),
    windowStart: () => child.send({ type: "window-start" }),
    async windowEnd() {
      const answer = next("window-stats");
      child.send({ type: "window-end" });
      return (await answer).stats as WindowStats;
    },
    cpuSeconds: () => processCpuSeconds(child.pid!),
    async stop() {
      if (child.exitCode === null && child.connected) child.send({ type: "stop" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Keeps at most `max` latencies (uniform reservoir), so a long window does not grow without bound. */
export class LatencySample {
  readonly values: number[] = [];
  private seen = 0;
  private readonly max: number;
  constructor(max = 20_000) {
    this.max = max;
  }
  add(ms: number): void {
    this.seen++;
    if (this.values.length < this.max) this.values.push(ms);
    else {
      const j = Math.floor(Math.random() * this.seen);
      if (j < this.max) this.values[j] = ms;
    }
  }
}
