// The 500-stream report flood, run in a worker thread: encoding and writing
// reports as fast as HTTP/2 allows would otherwise starve the test's own event
// loop, where the legitimate agents and their ack timing live.
import { parentPort, workerData } from "node:worker_threads";
import { RawPeer, hello, report, type RawStatus } from "./raw-agent.ts";

export interface FloodPlan {
  grpcAddress: string;
  /** One entry per stream: node id, which half of the seqs it sends, source address. */
  streams: { nodeId: string; half: number; address: string }[];
  floodMs: number;
}

export interface FloodOutcome {
  streams: number;
  admitted: number;
  refusedAtHello: number;
  /** Admitted streams the collector cut with RESOURCE_EXHAUSTED (report rate) while flooding. */
  cutForRate: number;
  reportsSent: number;
  /** Node ids of admitted streams that sent the odd seqs (each node's reports are counted once). */
  admittedNodes: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function flood(plan: FloodPlan): Promise<FloodOutcome> {
  const peers = new Map<string, RawPeer>();
  const peerFor = (address: string) => peers.get(address) ?? (peers.set(address, new RawPeer(plan.grpcAddress, address)), peers.get(address)!);
  const streams = plan.streams.map((s) => ({ ...s, stream: peerFor(s.address).open() }));
  streams.forEach(({ nodeId, stream }) => stream.send(hello(nodeId)));
  const welcomed = async (stream: (typeof streams)[number]["stream"]) => {
    while (stream.responses.length === 0) await sleep(10);
    return true;
  };
  const admitted = (await Promise.all(streams.map(async (s) => ((await Promise.race([s.stream.status.then(() => false), welcomed(s.stream)])) ? s : undefined)))).filter((s) => s !== undefined);
  const cut: RawStatus[] = [];
  admitted.forEach((s) => void s.stream.status.then((status) => cut.push(status)));
  const until = Date.now() + plan.floodMs;
  let reportsSent = 0;
  const writers = admitted.map(({ stream, half }) => {
    let seq = BigInt(half) + 1n;
    return stream.flood(() => {
      if (Date.now() >= until) return undefined;
      reportsSent++;
      const next = seq;
      seq += 2n;
      return report(next);
    });
  });
  await Promise.race([Promise.all(writers), sleep(plan.floodMs + 500)]);
  const cutForRate = cut.filter((s) => s.code === 8).length;
  admitted.forEach((s) => s.stream.cancel());
  await sleep(100);
  peers.forEach((p) => p.close());
  return {
    streams: streams.length,
    admitted: admitted.length,
    refusedAtHello: streams.length - admitted.length,
    cutForRate,
    reportsSent,
    admittedNodes: admitted.filter((s) => s.half === 0).map((s) => s.nodeId),
  };
}

if (parentPort) parentPort.postMessage(await flood(workerData as FloodPlan));
