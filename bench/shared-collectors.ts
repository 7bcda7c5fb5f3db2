// Three collectors sharing one PostgreSQL against one collector on it (issue 11): the same
// simulated fleet (the real protocol over loopback gRPC, --insecure), reporting as fast as acks
// come back, split across three `collector serve` processes or all on one. The peer is the one
// collector. Acks mean committed in both. Counted: acknowledged reports a second, and the CPU of
// the collector processes and of the database server per 1,000 reports (/proc). On a machine of
// two cores shared with other work, three collectors cannot run three times as fast: the CPU rows
// say what each report costs, the wall-clock row what this machine gave.
//   node bench/shared-collectors.ts [--quick]
import { loadavg } from "node:os";
import { childPids, startPostgres, type TestPostgres } from "../test/helpers/postgres.ts";
import { fleetFromOneAddress, startLoad } from "../test/helpers/load-generator.ts";
import { freePort } from "../test/helpers/ports.ts";
import { spawnClawfleet, type Spawned } from "../test/helpers/processes.ts";
import { processCpuSeconds, runStandalone, type BenchOptions, type BenchResult } from "./harness.ts";

interface Measured {
  reportsPerSecond: number;
  collectorCpuPerThousand: number;
  serverCpuPerThousand: number;
}

async function cpuOf(pids: number[]): Promise<number> {
  return (await Promise.all(pids.map((pid) => processCpuSeconds(pid).catch(() => 0)))).reduce((a, b) => a + b, 0);
}

async function measure(server: TestPostgres, collectors: number, nodes: number, seconds: number): Promise<Measured> {
  const url = await server.createDatabase();
  const processes: { spawned: Spawned; grpc: string }[] = [];
  try {
    for (let i = 0; i < collectors; i++) {
      const grpc = `127.0.0.1:${await freePort()}`;
      const spawned = spawnClawfleet(
        ["collector", "serve", "--insecure", "--grpc-listen", grpc, "--http-listen", `127.0.0.1:${await freePort()}`, "--db", url, "--log-level", "warn", ...fleetFromOneAddress(nodes)],
        { PGPASSWORD: server.password },
      );
      await spawned.waitFor(/collector ready/, 30_000);
      processes.push({ spawned, grpc });
    }
    const loads = processes.map((p, i) => startLoad({ collector: p.grpc, nodes: Math.round(nodes / collectors), ratePerNode: 0, inflight: 4, nodePrefix: `s${i}`, channels: 2 }));
    await Promise.all(loads.map((l) => l.welcomed));
    // Past the start (hellos, the first refresh): steady state only.
    await new Promise((r) => setTimeout(r, 1500));
    const pids = processes.map((p) => p.spawned.child.pid!);
    const serverPids = () => [server.pid, ...childPids(server.pid)];
    const acks0 = loads.reduce((a, l) => a + l.ackCount, 0);
    const [cpu0, db0, t0] = [await cpuOf(pids), await cpuOf(serverPids()), performance.now()];
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const acks = loads.reduce((a, l) => a + l.ackCount, 0) - acks0;
    const [cpu1, db1, t1] = [await cpuOf(pids), await cpuOf(serverPids()), performance.now()];
    for (const load of loads) load.stop();
    return {
      reportsPerSecond: acks / ((t1 - t0) / 1000),
      collectorCpuPerThousand: ((cpu1 - cpu0) / acks) * 1000,
      serverCpuPerThousand: ((db1 - db0) / acks) * 1000,
    };
  } finally {
    await Promise.all(processes.map((p) => p.spawned.stop("SIGTERM")));
  }
}

export async function bench(options: BenchOptions): Promise<BenchResult> {
  const nodes = options.quick ? 150 : 300;
  const seconds = options.quick ? 4 : 8;
  const server = await startPostgres({ fsync: true });
  const load = loadavg()[0]!;
  try {
    const one = await measure(server, 1, nodes, seconds);
    const three = await measure(server, 3, nodes, seconds);
    return {
      name: "shared-collectors",
      rows: [
        { what: `acknowledged reports, ${nodes} nodes flat out`, unit: "reports/s", ours: three.reportsPerSecond, peer: one.reportsPerSecond, peerName: "1 collector", better: "higher" },
        { what: "CPU per 1k reports, all collector processes", unit: "s", ours: three.collectorCpuPerThousand, peer: one.collectorCpuPerThousand, peerName: "1 collector", better: "lower" },
        { what: "CPU per 1k reports, PostgreSQL server", unit: "s", ours: three.serverCpuPerThousand, peer: one.serverCpuPerThousand, peerName: "1 collector", better: "lower" },
      ],
      notes: [
        `3 collectors vs 1 on one PostgreSQL (fsync on), ${nodes} simulated nodes split evenly, ${seconds} s of steady state each; the load generator runs in this process`,
        `load average ${load.toFixed(2)} at start; ${navigator.hardwareConcurrency} cores shared by the collectors, the server and the load: the reports/s row is bounded by this machine, compare the CPU rows`,
      ],
    };
  } finally {
    await server.stop();
  }
}

if (import.meta.main) await runStandalone("shared-collectors", bench);
