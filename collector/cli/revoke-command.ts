import { dirname, join } from "node:path";
import { defineCommand, UsageError } from "../../shared/cli.ts";
import { NODE_ID_PATTERN } from "../../shared/node-id.ts";
import { dataDir } from "../../shared/paths.ts";
import { openTrust, pkiDirFor } from "../pki/collector-security.ts";

export const revokeCommand = defineCommand({
  path: ["collector", "revoke"],
  help: `Usage: clawfleet collector revoke NODE [--operator] [--db PATH]

Revokes every certificate issued to NODE (or with --operator, to that person)
and drops its unused enrollment tokens. A running collector ends the node's live
stream within a second and refuses the certificate from then on. To let the
node back, make it a new token with \`clawfleet collector enroll NODE\`.

Options:
  --operator   revoke an operator's certificates, not a node's
  --db PATH    the collector's store; its CA is in pki/ beside it (default: <data dir>/collector.db)
  -h, --help   show this help

Examples:
  clawfleet collector revoke mini-07
  clawfleet collector revoke alice --operator`,
  allowPositionals: true,
  options: { operator: { type: "boolean" }, db: { type: "string" } },
  async run(values, positionals) {
    const [name, ...extra] = positionals;
    if (!name || extra.length > 0) throw new UsageError("name exactly one NODE (or operator name)");
    if (!NODE_ID_PATTERN.test(name)) throw new UsageError(`NODE must be lowercase letters, digits, ".", "_" or "-" (max 63), got "${name.slice(0, 80)}"`);
    const db = values.db ?? join(dataDir(), "collector.db");
    const { trust } = await openTrust(pkiDirFor(dirname(db)));
    const role = values.operator ? "operator" : "node";
    const count = trust.revoke(name, role);
    trust.close();
    process.stdout.write(`revoked ${count} certificate${count === 1 ? "" : "s"} of ${role} "${name}"${count > 0 ? "; a running collector ends its stream within a second" : ""}\n`);
    return 0;
  },
});
