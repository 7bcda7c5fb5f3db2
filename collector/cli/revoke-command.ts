import { defineCommand, UsageError } from "../../shared/cli.ts";
import { NODE_ID_PATTERN } from "../../shared/node-id.ts";
import { openTrustTarget, TRUST_TARGET_HELP, TRUST_TARGET_OPTIONS } from "./trust-target.ts";

export const revokeCommand = defineCommand({
  path: ["collector", "revoke"],
  help: `Usage: clawfleet collector revoke NODE [--operator] [--db PATH|URL]

Revokes every certificate issued to NODE (or with --operator, to that person)
and drops its unused enrollment tokens. A running collector ends the node's live
stream within a second and refuses the certificate from then on. To let the
node back, make it a new token with \`clawfleet collector enroll NODE\`.
With a postgres:// --db, every collector on that database ends the node's
stream and refuses it within two seconds.

Options:
  --operator   revoke an operator's certificates, not a node's
${TRUST_TARGET_HELP}
  -h, --help   show this help

Examples:
  clawfleet collector revoke mini-07
  clawfleet collector revoke alice --operator`,
  allowPositionals: true,
  options: { operator: { type: "boolean" }, ...TRUST_TARGET_OPTIONS },
  async run(values, positionals) {
    const [name, ...extra] = positionals;
    if (!name || extra.length > 0) throw new UsageError("name exactly one NODE (or operator name)");
    if (!NODE_ID_PATTERN.test(name)) throw new UsageError(`NODE must be lowercase letters, digits, ".", "_" or "-" (max 63), got "${name.slice(0, 80)}"`);
    const { trust } = await openTrustTarget(values, false);
    const role = values.operator ? "operator" : "node";
    let count: number;
    try {
      count = await trust.revoke(name, role);
    } finally {
      await trust.close();
    }
    process.stdout.write(`revoked ${count} certificate${count === 1 ? "" : "s"} of ${role} "${name}"${count > 0 ? "; a running collector ends its stream within a second" : ""}\n`);
    return 0;
  },
});
