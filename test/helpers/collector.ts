// A real `clawfleet collector serve` child process on free loopback ports.
import { freePort } from "./ports.ts";
import { spawnClawfleet, type Spawned } from "./processes.ts";

export interface TestCollector {
  grpcAddress: string;
  httpAddress: string;
  process: Spawned;
}

/** `grpcAddress` given: a restart where the agents already point. */
export async function startCollectorProcess(dbPath: string, extraArgs: string[] = [], grpcAddress?: string): Promise<TestCollector> {
  grpcAddress ??= `127.0.0.1:${await freePort()}`;
  const httpAddress = `127.0.0.1:${await freePort()}`;
  const process = spawnClawfleet(["collector", "serve", "--insecure", "--grpc-listen", grpcAddress, "--http-listen", httpAddress, "--db", dbPath, ...extraArgs]);
  await process.waitFor(/collector ready/);
  return { grpcAddress, httpAddress, process };
}
