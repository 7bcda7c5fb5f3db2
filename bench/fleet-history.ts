// The fleet page with its 24 h history strips at 10,000 nodes: a day of
// history stored through the real Fleet (every 10th node fails for 10 minutes
// every hour, every 3rd sleeps 7 hours), then the page and a node page
// rendered from the store, as the collector serves them.
//   npx node bench/fleet-history.ts [nodes] [runs]
import { renderFleetPage } from "../collector/http/fleet-page.ts";
import { renderNodePage } from "../collector/http/node-page.ts";
import { Fleet } from "../collector/state/fleet.ts";
import { SqliteStore } from "../collector/state/sqlite-store.ts";
import { nodeHistory, stateTimelines } from "../collector/query/node-history.ts";
import { simulatedReport } from "./fleet-fixture.ts";

const nodes = Number(process.argv[2] ?? 10_000);
const runs = Number(process.argv[3] ?? 5);
const H = 3_600_000;
const now = Date.now();
const start = now - 26 * H;
const store = new SqliteStore(":memory:");
const fleet = new Fleet(store, start);
const building = performance.now();
let seqs = 0;
for (let i = 0; i < nodes; i++) {
  const nodeId = `mini-${String(i).padStart(5, "0")}`;
  const identity = { nodeId, hostname: nodeId, platform: "darwin", agentVersion: "0.1.0", openclawVersion: "2026.9.6" };
  let seq = 0n;
  // i = 1 is neither failing nor flapping in the fixture's pattern: a node healthy but for its hourly flap.
  const report = (atMs: number, like: number) => fleet.record({ ...simulatedReport(nodeId, ++seq, like, atMs), receivedAtMs: atMs, observedAtMs: atMs });
  fleet.connect(identity, i + 1, "ipv4:127.0.0.1:1", start, start);
  report(start, i);
  if (i % 10 === 0) for (let h = 24; h >= 1; h--) (report(now - h * H, 0), report(now - h * H + 10 * 60_000, 1));
  if (i % 3 === 0) {
    fleet.disconnect(nodeId, i + 1, now - 20 * H);
    fleet.connect(identity, i + 1, "ipv4:127.0.0.1:1", now - 13 * H, now - 13 * H);
  }
  seqs += Number(seq);
}
const built = performance.now() - building;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = (work: () => string | undefined) => {
  const times: number[] = [];
  let bytes = 0;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    bytes = work()?.length ?? 0;
    times.push(performance.now() - t);
  }
  return { ms: median(times), bytes };
};
const page = time(() => renderFleetPage(fleet, new URLSearchParams(), 15, now));
// Only the hourly flappers (ids ending in 0): every strip has ~50 segments, the page's worst realistic case.
const flappers = time(() => renderFleetPage(fleet, new URLSearchParams("node=mini-*0"), 15, now));
const node = time(() => renderNodePage(fleet, "mini-00000", new URLSearchParams(), 15, now));
const strips = time(() => String(stateTimelines(fleet, fleet.list().slice(0, 100).map((v) => v.identity.nodeId), now).size));
const lanes = time(() => String(nodeHistory(fleet, "mini-00000", now)?.lanes.length));
const history = time(() => JSON.stringify(store.history({ nodeIds: fleet.list().slice(0, 100).map((v) => v.identity.nodeId), kinds: ["layer_change"], sinceMs: now - 24 * H, perNodeLimit: 200 }).events.length));
process.stdout.write(
  `${nodes} nodes, ${seqs} reports, ${store.eventCount()} events stored in ${(built / 1000).toFixed(1)} s\n` +
    `fleet page (500 rows, 100 strips): ${page.ms.toFixed(0)} ms, ${(page.bytes / 1024).toFixed(0)} KiB (median of ${runs})\n` +
    `fleet page of hourly flappers only (500 rows, 100 strips of ~50 segments): ${flappers.ms.toFixed(0)} ms, ${(flappers.bytes / 1024).toFixed(0)} KiB\n` +
    `node page of a flapping node: ${node.ms.toFixed(1)} ms, ${(node.bytes / 1024).toFixed(0)} KiB\n` +
    `of which the history: 100 strips ${strips.ms.toFixed(1)} ms (store.history alone ${history.ms.toFixed(1)} ms), the node's lanes ${lanes.ms.toFixed(1)} ms\n`,
);
store.close();
