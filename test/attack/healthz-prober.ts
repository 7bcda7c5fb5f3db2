// Times /healthz from a worker thread: the attack runs on the test's own event
// loop, which would otherwise delay the measurement and blame the collector.
import { Worker } from "node:worker_threads";

const PROBER = `
const { parentPort, workerData } = require("node:worker_threads");
let probing = true;
const times = [];
parentPort.on("message", () => (probing = false));
(async () => {
  // Untimed: the worker's first fetch loads undici and opens the connection.
  await (await fetch("http://" + workerData.httpAddress + "/healthz")).text();
  parentPort.postMessage("ready");
  while (probing) {
    const started = performance.now();
    const response = await fetch("http://" + workerData.httpAddress + "/healthz");
    await response.text();
    if (response.status !== 200) throw new Error("/healthz answered " + response.status);
    times.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, workerData.everyMs));
  }
  parentPort.postMessage(times);
})();
`;

export interface HealthzTimes {
  probes: number;
  slowest: number;
  /** 90th percentile: on a shared machine a probe now and then loses the CPU to another process. */
  p90: number;
  median: number;
}

export interface HealthzProbe {
  /** Resolves once the worker is warm and probing. */
  ready: Promise<void>;
  /** Stops probing; resolves with the slowest answer (ms) and how many probes ran. */
  stop(): Promise<HealthzTimes>;
}

export function probeHealthz(httpAddress: string, everyMs = 20): HealthzProbe {
  const worker = new Worker(PROBER, { eval: true, workerData: { httpAddress, everyMs } });
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const result = new Promise<number[]>((resolve, reject) => {
    worker.on("message", (message) => (message === "ready" ? markReady() : resolve(message)));
    worker.once("error", reject);
  });
  return {
    ready,
    async stop() {
      worker.postMessage("stop");
      const times = (await result).sort((a, b) => b - a);
      await worker.terminate();
      const at = (fraction: number) => times[Math.floor(times.length * fraction)] ?? 0;
      return { probes: times.length, slowest: at(0), p90: at(0.1), median: at(0.5) };
    },
  };
}
