// Writes the generated deploy/ files (alert rules, promtool tests, Alertmanager
// config, Grafana dashboards) from shared/taxonomy.ts and deploy/generate/.
// Usage: node scripts/generate-deploy.ts  (npm run generate:deploy)
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generatedFiles } from "../deploy/generate/outputs.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
for (const file of generatedFiles()) {
  const path = join(root, file.path);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, file.content);
  process.stdout.write(`wrote ${file.path}\n`);
}
