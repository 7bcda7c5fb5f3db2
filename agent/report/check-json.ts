// The `clawfleet.check.v1` document: the contract scripts rely on (docs/architecture.md
// says how it is versioned; the README shows an example).
import type { Finding } from "../../shared/finding.ts";
import type { NodeInfo } from "../discovery/node-identity.ts";
import type { CheckRun } from "../checks/run-checks.ts";

export const CHECK_SCHEMA = "clawfleet.check.v1";

export function checkDocument(node: NodeInfo, run: CheckRun) {
  const finding = (f: Finding) => ({
    check: f.check,
    layer: f.layer,
    status: f.status,
    code: f.code || null,
    summary: f.summary,
    action: f.action || null,
    evidence: f.evidence,
    ...(f.dependsOn ? { depends_on: f.dependsOn } : {}),
  });
  return {
    schema: CHECK_SCHEMA,
    node: { id: node.id, hostname: node.hostname, platform: node.platform },
    verdict: run.verdict,
    primary: run.primary
      ? { layer: run.primary.layer, code: run.primary.code, summary: run.primary.summary, action: run.primary.action }
      : null,
    findings: run.findings.map(finding),
    credentials: run.credentials,
    duration_ms: run.durationMs,
  };
}
