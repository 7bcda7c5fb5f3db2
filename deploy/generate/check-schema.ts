// JSON Schema (draft 2020-12) of the `clawfleet.check.v1` document that
// `clawfleet agent check --json` prints (agent/report/check-json.ts). Layers,
// statuses and codes come from shared/taxonomy.ts, so a new code is in the
// schema as soon as the generator runs; the generated-files test keeps the
// committed copy current.
import type { CredentialKind } from "../../agent/checks/check.ts";
import { CHECK_SCHEMA } from "../../agent/report/check-json.ts";
import type { Verdict } from "../../shared/finding.ts";
import { CODES, LAYERS, STATUSES } from "../../shared/taxonomy.ts";

export const CHECK_SCHEMA_PATH = `shared/schema/${CHECK_SCHEMA}.schema.json`;

// Types the compiler knows only as unions: listed here, and the `Exhaustive`
// checks fail to compile when a member is added to the union and not here.
const VERDICTS = ["ok", "warn", "fail", "unknown"] as const satisfies readonly Verdict[];
const CREDENTIAL_KINDS = ["gateway_token", "provider_key"] as const satisfies readonly CredentialKind[];
type Exhaustive<Union, Listed> = [Exclude<Union, Listed>] extends [never] ? true : never;
const verdictsListed: Exhaustive<Verdict, (typeof VERDICTS)[number]> = true;
const kindsListed: Exhaustive<CredentialKind, (typeof CREDENTIAL_KINDS)[number]> = true;
void verdictsListed, void kindsListed;

const text = { type: "string" } as const;

export function checkSchema() {
  const code = { enum: Object.keys(CODES) };
  const layer = { enum: [...LAYERS] };
  const object = (properties: Record<string, unknown>, optional: readonly string[] = []) => ({
    type: "object",
    properties,
    required: Object.keys(properties).filter((name) => !optional.includes(name)),
    additionalProperties: false,
  });
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: CHECK_SCHEMA,
    description: "The document `clawfleet agent check --json` prints: one run of every check on one host.",
    ...object({
      schema: { const: CHECK_SCHEMA },
      node: object({ id: text, hostname: text, platform: text }),
      verdict: { enum: [...VERDICTS], description: "Worst status of any finding: fail, else warn, else unknown (a check errored), else ok." },
      primary: {
        description: "The root cause by the taxonomy's dependencies; null when nothing is wrong.",
        oneOf: [{ type: "null" }, object({ layer, code, summary: text, action: text })],
      },
      findings: { type: "array", items: { $ref: "#/$defs/finding" } },
      credentials: {
        type: "array",
        description: "Secrets seen during the run, as fingerprints only.",
        items: object({ kind: { enum: [...CREDENTIAL_KINDS] }, source: text, fingerprint: { $ref: "#/$defs/fingerprint" }, subject: text }),
      },
      duration_ms: { type: "integer", minimum: 0 },
    }),
    $defs: {
      finding: object(
        {
          check: text,
          layer,
          status: { enum: [...STATUSES] },
          code: { description: "Null for a passed or skipped check.", oneOf: [{ type: "null" }, code] },
          summary: text,
          action: { oneOf: [{ type: "null" }, text] },
          evidence: { type: "object", additionalProperties: text },
          depends_on: { description: "Code of the finding this one is a consequence of.", ...code },
        },
        ["depends_on"],
      ),
      // shared/fingerprint.ts: a truncated SHA-256, or an HMAC with the fleet key; never the secret.
      fingerprint: { type: "string", pattern: "^(sha256|hmac):[0-9a-f]+$" },
    },
  };
}
