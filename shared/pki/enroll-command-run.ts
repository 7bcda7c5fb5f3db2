// What `agent enroll` and `collector login` share: enroll with the collector at
// --collector using --token, keep the identity in `dir`, say what was issued.
import { parseAddress, UsageError } from "../cli.ts";
import { enroll, EnrollError } from "./enroll-client.ts";

export async function runEnrollment(values: { collector?: string; token?: string }, dir: string, expectRole: "node" | "operator"): Promise<number> {
  const address = values.collector ?? process.env.CLAWFLEET_COLLECTOR;
  if (!address) throw new UsageError("--collector HOST:PORT is required (the collector that printed the token)");
  const { host, port } = parseAddress("collector", address);
  if (!values.token) throw new UsageError("--token is required: run `clawfleet collector enroll NAME` on the collector's host");
  try {
    const issued = await enroll({ address, host, port, token: values.token, dir });
    if (issued.role !== expectRole) {
      process.stderr.write(`clawfleet: that token was for ${issued.role} "${issued.name}", not for ${expectRole === "node" ? "a node (use `clawfleet collector login`)" : "an operator (use `clawfleet agent enroll`)"}\n`);
      return 1;
    }
    process.stdout.write(
      `enrolled as ${issued.role} "${issued.name}" with the collector at ${address}\n` +
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
