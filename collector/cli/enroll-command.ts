import { dirname, join } from "node:path";
import { defineCommand, UsageError } from "../../shared/cli.ts";
import { parseDuration } from "../../shared/duration.ts";
import { NODE_ID_PATTERN } from "../../shared/node-id.ts";
import { dataDir } from "../../shared/paths.ts";
import { newEnrollmentToken } from "../../shared/pki/enrollment-token.ts";
import { openTrust, pkiDirFor } from "../pki/collector-security.ts";

const MAX_TTL_MS = 7 * 86_400_000;

export const enrollCommand = defineCommand({
  path: ["collector", "enroll"],
  help: `Usage: clawfleet collector enroll NODE [--operator] [--ttl 1h] [--db PATH]

Prints a one-time enrollment token for NODE (a node id, or with --operator a
person's name) as the only line on stdout. The token expires (default 1h), works
once, and carries the fingerprint of this collector's CA, so the host that uses
it can tell this collector from anyone else at that address. Run it on the
collector's host, as the user the collector runs as (it needs the store's directory).

On the node:      clawfleet agent enroll --collector COLLECTOR:4317 --token TOKEN
For an operator:  clawfleet collector login --collector COLLECTOR:4317 --token TOKEN

Options:
  --operator     the token is for a person reading the fleet (collector query), not a node
  --ttl DURATION how long the token stays usable (default 1h, at most 7d)
  --db PATH      the collector's store; its CA is in pki/ beside it (default: <data dir>/collector.db)
  -h, --help     show this help

Examples:
  clawfleet collector enroll mini-07
  clawfleet collector enroll alice --operator --ttl 15m`,
  allowPositionals: true,
  options: { operator: { type: "boolean" }, ttl: { type: "string", default: "1h" }, db: { type: "string" } },
  async run(values, positionals) {
    const [name, ...extra] = positionals;
    if (!name || extra.length > 0) throw new UsageError("name exactly one NODE (or operator name)");
    if (!NODE_ID_PATTERN.test(name)) throw new UsageError(`NODE must be lowercase letters, digits, ".", "_" or "-" (max 63), got "${name.slice(0, 80)}"`);
    let ttlMs: number;
    try {
      ttlMs = parseDuration(values.ttl!);
    } catch (error) {
      throw new UsageError(`--ttl: ${(error as Error).message}`);
    }
    if (ttlMs < 60_000 || ttlMs > MAX_TTL_MS) throw new UsageError(`--ttl must be between 1m and 7d, got ${values.ttl}`);
    const db = values.db ?? join(dataDir(), "collector.db");
    const { authority, trust } = await openTrust(pkiDirFor(dirname(db)));
    const role = values.operator ? "operator" : "node";
    const { token, secret } = newEnrollmentToken(authority.pin);
    const expiresMs = Date.now() + ttlMs;
    trust.addEnrollment(secret, { name, role, expiresMs });
    trust.close();
    process.stdout.write(`${token}\n`);
    process.stderr.write(
      `one-time token for ${role} "${name}", usable until ${new Date(expiresMs).toISOString()}\n` +
        (role === "node"
          ? `  on ${name}: clawfleet agent enroll --collector <this collector's gRPC address> --token <token>\n`
          : `  on the operator's machine: clawfleet collector login --collector <this collector's gRPC address> --token <token>\n`),
    );
    return 0;
  },
});
