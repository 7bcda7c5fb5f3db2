// Writes the generated files (alert rules, promtool tests, Alertmanager config,
// Grafana dashboards, runbooks, the check document's JSON Schema) from
// shared/taxonomy.ts and deploy/generate/.
// Usage: node scripts/generate-deploy.ts [--runbook-base-url URL]  (npm run generate:deploy [-- …])
//   --runbook-base-url  prefix of the rules' runbook_url annotations, e.g.
//                       https://github.com/OWNER/clawfleet/blob/main/ (default:
//                       the bare repository path docs/runbooks/<Alert>.md#<code>)
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { generatedFiles } from "../deploy/generate/outputs.ts";

const { values } = parseArgs({ options: { "runbook-base-url": { type: "string" } } });
const root = fileURLToPath(new URL("..", import.meta.url));
for (const file of generatedFiles({ runbookBaseUrl: values["runbook-base-url"] })) {
  const path = join(root, file.path);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, file.content);
  process.stdout.write(`wrote ${file.path}\n`);
}
