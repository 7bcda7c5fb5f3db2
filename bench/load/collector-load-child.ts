// One load-generator process for bench/ingest.ts and bench/scrape.ts: its share
// of the fleet on real gRPC streams (test/helpers/load-generator.ts), sending as
// fast as acks allow. With `oneReportEach`, each node sends one report and
// then stays connected and quiet (a fleet to scrape, not a load).
import { startLoad } from "../../test/helpers/load-generator.ts";
import { LatencySample } from "./child-ipc.ts";

const config = JSON.parse(process.argv[2]!) as { collector: string; nodes: number; nodePrefix: string; inflight: number; channels: number; oneReportEach?: boolean; connectPerSecond?: number };
let window: LatencySample | undefined;
const load = startLoad({
  collector: config.collector,
  nodes: config.nodes,
  ratePerNode: 0,
  inflight: config.oneReportEach ? 1 : config.inflight,
  channels: config.channels,
  nodePrefix: config.nodePrefix,
  tolerateRefusals: true,
  // Paced, as a fleet's jittered reconnects are: 10,000 hellos at once on a busy machine time out.
  ...(config.connectPerSecond ? { connectPerSecond: config.connectPerSecond } : {}),
  onAckLatency: (ms) => window?.add(ms),
});
await load.welcomed;
if (config.oneReportEach) {
  // Paused at once: the reports already written are acked; the pump sends no more.
  load.pause();
  while ([...load.acked.values()].filter((seq) => seq > 0n).length < config.nodes - load.notWelcomed) await new Promise((r) => setTimeout(r, 100));
}
process.send!({ type: "ready", notWelcomed: load.notWelcomed, errorKinds: Object.fromEntries(load.errorKinds) });
let startAcks = 0;
let startErrors = 0;
process.on("message", (m: { type: string }) => {
  if (m.type === "window-start") {
    window = new LatencySample();
    startAcks = load.ackCount;
    startErrors = load.errors;
  } else if (m.type === "window-end") {
    const stats = { done: load.ackCount - startAcks, latenciesMs: window?.values ?? [], errors: load.errors - startErrors, errorKinds: Object.fromEntries(load.errorKinds), notWelcomed: load.notWelcomed };
    window = undefined;
    process.send!({ type: "window-stats", stats });
  } else if (m.type === "stop") {
    load.stop();
    setTimeout(() => process.exit(0), 200);
  }
});
