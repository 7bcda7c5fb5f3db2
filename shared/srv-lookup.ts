// Collectors from a DNS SRV record (RFC 2782): each answer's target and port is
// one collector, its priority and weight say how nodes are spread over them
// (collector-order.ts). Bounded in time (a DNS server that does not answer must
// not hold an agent's reconnect) and in size.
import { Resolver } from "node:dns/promises";
import { formatAddress } from "./cli.ts";
import { MAX_COLLECTORS } from "./collector-list.ts";
import type { CollectorTarget } from "./collector-order.ts";

export const SRV_TIMEOUT_MS = 5000;
/** As many as a list on the command line may name: enroll and renew try each in turn, so more would only cost time. */
export const MAX_SRV_TARGETS = MAX_COLLECTORS;

export class SrvLookupError extends Error {}

export interface SrvLookupOptions {
  timeoutMs?: number;
  /** DNS servers to ask instead of the system's (tests: a server on loopback). */
  servers?: string[];
}

export async function lookupSrv(name: string, options: SrvLookupOptions = {}): Promise<CollectorTarget[]> {
  const timeoutMs = options.timeoutMs ?? SRV_TIMEOUT_MS;
  // c-ares retries on its own; two tries within the bound, then the race below cuts it.
  const resolver = new Resolver({ timeout: Math.max(100, Math.floor(timeoutMs / 2)), tries: 2 });
  if (options.servers) resolver.setServers(options.servers);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      resolver.cancel();
      reject(new SrvLookupError(`no DNS answer for SRV ${name} within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  let records;
  try {
    records = await Promise.race([resolver.resolveSrv(name), timeout]);
  } catch (error) {
    if (error instanceof SrvLookupError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENODATA" || code === "ENOTFOUND") throw new SrvLookupError(`no SRV record ${name} (${code})`);
    throw new SrvLookupError(`SRV lookup of ${name} failed: ${code ?? (error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  // Target "." means "decidedly not available at this domain" (RFC 2782).
  const usable = records.filter((r) => r.name !== "" && r.name !== "." && r.port > 0);
  if (usable.length === 0) throw new SrvLookupError(`SRV ${name} names no collector${records.length > 0 ? " (its target is \".\": the service is not offered there)" : ""}`);
  const seen = new Set<string>();
  const targets: CollectorTarget[] = [];
  for (const record of usable.sort((a, b) => a.priority - b.priority)) {
    const address = formatAddress(record.name.replace(/\.$/, ""), record.port);
    if (seen.has(address) || targets.length >= MAX_SRV_TARGETS) continue;
    seen.add(address);
    targets.push({ address, priority: record.priority, weight: record.weight });
  }
  return targets;
}
