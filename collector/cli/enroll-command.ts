import { defineCommand, UsageError } from "../../shared/cli.ts";
import { parseDuration } from "../../shared/duration.ts";
import { NODE_ID_PATTERN } from "../../shared/node-id.ts";
import { newEnrollmentToken } from "../../shared/pki/enrollment-token.ts";
import { openTrustTarget, TRUST_TARGET_HELP, TRUST_TARGET_OPTIONS } from "./trust-target.ts";

const MAX_TTL_MS = 7 * 86_400_000;

export const enrollCommand = defineCommand({
  path: ["collector", "enroll"],
  help: `Usage: clawfleet collector enroll NODE [--operator] [--ttl 1h] [--db PATH|URL]

Prints a one-time enrollment token for NODE (a node id, or with --operator a
person's name) as the only line on stdout. The token expires (default 1h), works
once, and carries the fingerprint of this collector's CA, so the host that uses
it can tell this collector from anyone else at that address. Run it on the
collector's host, as the user the collector runs as (it needs the store's directory).
With a postgres:// --db shared by several collectors, run it on any of their
hosts: the token works at every collector on that database, once.

On the node:      clawfleet agent enroll --collector COLLECTOR:4317 --token TOKEN
For an operator:  clawfleet collector login --collector COLLECTOR:4317 --token TOKEN

Options:
  --operator     the token is for a person reading the fleet (collector query), not a node
  --ttl DURATION how long the token stays usable (default 1h, at most 7d)
${TRUST_TARGET_HELP}
  -h, --help     show this help

Examples:
  clawfleet collector enroll mini-07
  clawfleet collector enroll alice --operator --ttl 15m`,
  allowPositionals: true,
  options: { operator: { type: "boolean" }, ttl: { type: "string", default: "1h" }, ...TRUST_TARGET_OPTIONS },
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
    const { trust, pin } = await openTrustTarget(values, true);
    const role = values.operator ? "operator" : "node";
    const { token, secret } = newEnrollmentToken(pin!);
    const expiresMs = Date.now() + ttlMs;
    try {
      await trust.addEnrollment(secret, { name, role, expiresMs });
    } finally {
      await trust.close();
    }
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
