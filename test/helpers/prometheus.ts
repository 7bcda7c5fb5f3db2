// A real Prometheus server (the Debian `prometheus` package) on a free
// loopback port, with its own config directory and TSDB, for end-to-end and
// dashboard tests. promtool comes from the same package.
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { freePort } from "./ports.ts";
import { spawnProcess, type Spawned } from "./processes.ts";

const INSTALL_HINT = "install it with `apt-get install -y prometheus prometheus-alertmanager` (Debian), which also brings promtool and amtool";

/** The first of `names` found on PATH; fails with an install hint, never skips. */
export function findBinary(...names: string[]): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    for (const name of names) {
      const path = join(dir, name);
      try {
        accessSync(path, constants.X_OK);
        return path;
      } catch {
        // Not in this directory.
      }
    }
  }
  throw new Error(`${names.join(" or ")} not found on PATH: ${INSTALL_HINT}`);
}

export interface PromVectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface TestPrometheus {
  url: string;
  process: Spawned;
  /** Instant query; rejects when Prometheus cannot parse or run it. */
  query(expr: string): Promise<PromVectorSample[]>;
  stop(): Promise<void>;
}

export interface PrometheusFiles {
  /** prometheus.yml; rule files it names are written beside it. */
  config: string;
  files?: Record<string, string>;
  /** More command-line flags, e.g. --web.enable-remote-write-receiver. */
  flags?: string[];
}

export async function startPrometheus(files: PrometheusFiles): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-prometheus-"));
  writeFileSync(join(dir, "prometheus.yml"), files.config);
  for (const [name, content] of Object.entries(files.files ?? {})) writeFileSync(join(dir, name), content);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = spawnProcess(
    findBinary("prometheus"),
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
      ...(files.flags ?? []),
    ],
    { PATH: process.env.PATH ?? "" },
    dir,
  );
  await waitReady(url, server, "prometheus");
  return {
    url,
    process: server,
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query`, { method: "POST", body: new URLSearchParams({ query: expr }), signal: AbortSignal.timeout(5000) });
      const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: PromVectorSample[] } };
      if (body.status !== "success") throw new Error(`Prometheus rejected ${JSON.stringify(expr)}: ${body.error}`);
      if (body.data!.resultType !== "vector") return [];
      return body.data!.result;
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls /-/ready, failing fast (with the server's output) if it exits. */
export async function waitReady(url: string, server: Spawned, name: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`${name} exited (${server.child.exitCode}):\n${server.stderr.slice(-4000)}`);
    try {
      if ((await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} at ${url} not ready after ${timeoutMs} ms:\n${server.stderr.slice(-4000)}`);
}
