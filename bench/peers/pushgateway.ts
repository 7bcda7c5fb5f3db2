// Debian's prometheus-pushgateway on a loopback port, and the per-node groups
// that hold the same series as the collector's /metrics: the peer for
// bench/ingest.ts and bench/scrape.ts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBinary, waitReady } from "../../test/helpers/prometheus.ts";
import { freePort } from "../../test/helpers/ports.ts";
import { spawnProcess, type Spawned } from "../../test/helpers/processes.ts";

export interface Pushgateway {
  url: string;
  address: string;
  process: Spawned;
  stop(): Promise<void>;
}

/**
 * `consistencyCheck: false` adds `--push.disable-consistency-check`. A
 * persistence file carries the groups from one run to the next (written at
 * shutdown), so the as-shipped mode can start already holding a fleet.
 */
export async function startPushgateway(options: { consistencyCheck: boolean; persistenceFile?: string }): Promise<Pushgateway> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const args = [`--web.listen-address=${address}`, "--log.level=warn"];
  // Debian's default persistence file is a system path: always name ours, or none (memory only).
  args.push(`--persistence.file=${options.persistenceFile ?? ""}`, "--persistence.interval=1h");
  if (!options.consistencyCheck) args.push("--push.disable-consistency-check");
  const server = spawnProcess(findBinary("prometheus-pushgateway", "pushgateway"), args, { PATH: process.env.PATH ?? "" });
  const url = `http://${address}`;
  await waitReady(url, server, "prometheus-pushgateway", 120_000);
  return { url, address, process: server, stop: async () => void (await server.stop()) };
}

export interface PushGroup {
  /** /metrics/job/clawfleet/node/<id> */
  path: string;
  /** Text exposition of the node's series, with HELP and TYPE of each family in it. */
  body: string;
}

/** Splits an exposition into one group per node (every series with a node label), as a node would push its own. */
export function groupsFromExposition(text: string): PushGroup[] {
  const meta = new Map<string, string>(); // family name -> "# HELP …\n# TYPE …\n"
  const byNode = new Map<string, Map<string, string[]>>();
  for (const line of text.split("\n")) {
    const comment = /^# (HELP|TYPE) (\S+) /.exec(line);
    if (comment) {
      meta.set(comment[2]!, (meta.get(comment[2]!) ?? "") + line + "\n");
      continue;
    }
    const node = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(?:.*,)?node="([^"]+)"/.exec(line);
    if (!node) continue;
    const families = byNode.get(node[2]!) ?? new Map<string, string[]>();
    byNode.set(node[2]!, families);
    const lines = families.get(node[1]!) ?? [];
    families.set(node[1]!, lines);
    lines.push(line);
  }
  return [...byNode].map(([node, families]) => ({
    path: `/metrics/job/clawfleet/node/${encodeURIComponent(node)}`,
    body: [...families].map(([family, lines]) => (meta.get(family) ?? "") + lines.join("\n") + "\n").join(""),
  }));
}

/** Writes groups to a temp file for push children; returns the path and a cleanup. */
export function writeGroups(groups: PushGroup[]): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-bench-groups-"));
  const file = join(dir, "groups.json");
  writeFileSync(file, JSON.stringify(groups));
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
