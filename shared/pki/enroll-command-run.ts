// What `agent enroll` and `collector login` share: enroll with the collector at
// --collector (for a node: the first of the fleet's that answers) using --token,
// keep the identity in `dir`, say what was issued.
import { parseAddress, UsageError } from "../cli.ts";
import { parseCollectorSpec, type CollectorSpec } from "../collector-list.ts";
import { lookupSrv } from "../srv-lookup.ts";
import { orderCollectors } from "../collector-order.ts";
import { enroll, EnrollError } from "./enroll-client.ts";

/**
 * A node may name the fleet's collectors (a list or srv:NAME): it enrolls with
 * the first that answers, and records the whole list for `agent run`. An
 * operator names one collector (`collector query` reads it back as one).
 */
export async function runEnrollment(values: { collector?: string; token?: string }, dir: string, expectRole: "node" | "operator"): Promise<number> {
  const text = values.collector ?? process.env.CLAWFLEET_COLLECTOR;
  if (!text) throw new UsageError(`--collector HOST:PORT${expectRole === "node" ? "[,HOST:PORT…]" : ""} is required (the collector that printed the token)`);
  const spec: CollectorSpec = expectRole === "node" ? parseCollectorSpec("collector", text) : oneCollector(text);
  if (!values.token) throw new UsageError("--token is required: run `clawfleet collector enroll NAME` on the collector's host");
  try {
    const issued = await enrollWithAny(spec, values.token, dir);
    const address = issued.address;
    if (issued.role !== expectRole) {
      process.stderr.write(`clawfleet: that token was for ${issued.role} "${issued.name}", not for ${expectRole === "node" ? "a node (use `clawfleet collector login`)" : "an operator (use `clawfleet agent enroll`)"}\n`);
      return 1;
    }
    process.stdout.write(
      `enrolled as ${issued.role} "${issued.name}" with the collector at ${address}${spec.text !== address ? ` (agent run reports to ${spec.text})` : ""}\n` +
        `  certificate valid until ${new Date(Number(issued.notAfterUnixMs)).toISOString()} (renewed automatically while running)\n` +
        `  kept in ${dir} (private key 0600, never sent)\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof EnrollError) {
      process.stderr.write(`clawfleet: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function oneCollector(text: string): CollectorSpec {
  parseAddress("collector", text);
  return { kind: "list", text, addresses: [text] };
}

/** Each collector in turn (SRV: by priority, then weight) until one enrolls this host; every failure is said. */
async function enrollWithAny(spec: CollectorSpec, token: string, dir: string) {
  let addresses: string[];
  if (spec.kind === "list") addresses = spec.addresses;
  else {
    try {
      addresses = orderCollectors(await lookupSrv(spec.name), "");
    } catch (error) {
      throw new EnrollError((error as Error).message);
    }
  }
  const failures: string[] = [];
  for (const address of addresses) {
    const { host, port } = parseAddress("collector", address);
    try {
      return { ...(await enroll({ address, host, port, token, dir, recordAs: spec.text })), address };
    } catch (error) {
      if (!(error instanceof EnrollError)) throw error;
      failures.push(error.message);
    }
  }
  throw new EnrollError(failures.join("; "));
}
