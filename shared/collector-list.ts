// What `--collector` may name: one collector, a list of them (HOST:PORT,…), or
// a DNS SRV name (srv:_clawfleet._tcp.example.ts.net) whose answers are the
// list. The same text is what `agent enroll` records, so `agent run` reads it
// back unchanged.
import { parseAddress, UsageError } from "./cli.ts";

/** More collectors than a fleet would run, few enough that trying each in turn stays quick. */
export const MAX_COLLECTORS = 16;
export const SRV_PREFIX = "srv:";

export type CollectorSpec =
  /** In the order given; each node orders them itself (collector-order.ts). */
  | { kind: "list"; text: string; addresses: string[] }
  | { kind: "srv"; text: string; name: string };

/** A DNS name as RFC 1035 bounds it (labels of 1-63, at most 253 in all); `_` for SRV's _service._proto labels. */
const DNS_NAME = /^(?=.{1,253}\.?$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?$/;

/** Reads `--<flag>` as a collector list or an SRV name; every error names the flag and the entry. */
export function parseCollectorSpec(flag: string, value: string): CollectorSpec {
  const text = value.trim();
  if (text.toLowerCase().startsWith(SRV_PREFIX)) {
    const name = text.slice(SRV_PREFIX.length);
    if (name.includes(",")) throw new UsageError(`--${flag}: an SRV name stands alone (its answers are the list), got "${value}"`);
    if (!DNS_NAME.test(name)) throw new UsageError(`--${flag}: "${name}" is not a DNS name; expected e.g. srv:_clawfleet._tcp.example.ts.net`);
    return { kind: "srv", text, name: name.replace(/\.$/, "") };
  }
  const entries = text.split(",").map((entry) => entry.trim());
  if (entries.length > MAX_COLLECTORS) throw new UsageError(`--${flag}: at most ${MAX_COLLECTORS} collectors, got ${entries.length}`);
  const addresses: string[] = [];
  for (const [index, entry] of entries.entries()) {
    const where = entries.length > 1 ? ` (entry ${index + 1} of ${entries.length})` : "";
    if (entry === "") throw new UsageError(`--${flag}: empty entry${where} in "${value}"; expected HOST:PORT[,HOST:PORT…] or srv:NAME`);
    if (entry.toLowerCase().startsWith(SRV_PREFIX)) throw new UsageError(`--${flag}: an SRV name cannot be mixed with addresses${where}: give either HOST:PORT,… or one srv:NAME`);
    try {
      parseAddress(flag, entry);
    } catch (error) {
      throw new UsageError(`${(error as Error).message}${where}; a list is HOST:PORT,HOST:PORT,… or one srv:NAME`);
    }
    if (addresses.includes(entry)) throw new UsageError(`--${flag}: "${entry}" is listed twice`);
    addresses.push(entry);
  }
  return { kind: "list", text: addresses.join(","), addresses };
}
