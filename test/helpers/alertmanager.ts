// A real Alertmanager (Debian `prometheus-alertmanager`, upstream
// `alertmanager`) on a free loopback port, gossip off, its own data dir.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";
import { spawnProcess, type Spawned } from "./processes.ts";
import { findBinary, waitReady } from "./prometheus.ts";

/** An alert as Alertmanager's v2 API shows it, with why it is muted. */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: { state: "active" | "suppressed" | "unprocessed"; inhibitedBy: string[]; silencedBy: string[] };
  receivers: { name: string }[];
}

export interface TestAlertmanager {
  url: string;
  /** HOST:PORT, for Prometheus' alerting config. */
  address: string;
  process: Spawned;
  alerts(): Promise<AlertmanagerAlert[]>;
  stop(): Promise<void>;
}

export async function startAlertmanager(config: string): Promise<TestAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-alertmanager-"));
  writeFileSync(join(dir, "alertmanager.yml"), config);
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const url = `http://${address}`;
  const server = spawnProcess(
    findBinary("alertmanager", "prometheus-alertmanager"),
    [
      `--config.file=${join(dir, "alertmanager.yml")}`,
      `--storage.path=${join(dir, "data")}`,
      `--web.listen-address=${address}`,
      // Empty disables clustering: no gossip port, no waiting for peers.
      "--cluster.listen-address=",
      "--log.level=warn",
    ],
    { PATH: process.env.PATH ?? "" },
    dir,
  );
  await waitReady(url, server, "alertmanager");
  return {
    url,
    address,
    process: server,
    async alerts() {
      const response = await fetch(`${url}/api/v2/alerts`, { signal: AbortSignal.timeout(5000) });
      if (!response.ok) throw new Error(`alertmanager /api/v2/alerts answered ${response.status}`);
      return (await response.json()) as AlertmanagerAlert[];
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
