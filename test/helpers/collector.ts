// A real `clawfleet collector serve` child process on free loopback ports.
import { freePort } from "./ports.ts";
import { spawnClawfleet, type Spawned } from "./processes.ts";

export interface TestCollector {
  grpcAddress: string;
  httpAddress: string;
  process: Spawned;
}

export async function startCollectorProcess(dbPath: string, extraArgs: string[] = []): Promise<TestCollector> {
  const grpcAddress = `127.0.0.1:${await freePort()}`;
  const httpAddress = `127.0.0.1:${await freePort()}`;
  const process = spawnClawfleet(["collector", "serve", "--insecure", "--grpc-listen", grpcAddress, "--http-listen", httpAddress, "--db", dbPath, ...extraArgs]);
  await process.waitFor(/collector ready/);
  return { grpcAddress, httpAddress, process };
}
