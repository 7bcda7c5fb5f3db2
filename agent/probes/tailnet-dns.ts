// MagicDNS: does this node's tailnet name resolve through the system
// resolver (getaddrinfo, as every client on this host would resolve it)?
import { within } from "../../shared/within.ts";
import { lookup } from "node:dns/promises";

export type NameResolution = { addresses: string[] } | { error: string };

/** dns.lookup cannot be aborted, so a slow resolver is cut off by the timeout instead. */
export async function resolveName(name: string, timeoutMs: number): Promise<NameResolution> {
  const resolved = lookup(name, { all: true }).then(
    (entries): NameResolution => ({ addresses: entries.map((e) => e.address) }),
    (error: NodeJS.ErrnoException): NameResolution => ({ error: error.code ?? error.message }),
  );
  return within(resolved, timeoutMs, { error: "ETIMEOUT" });
}
