// Human output of `agent check`: verdict and primary cause first, then each
// layer's findings with the action to take.
import type { Finding } from "../../shared/finding.ts";
import { STATUS_COLOUR, type Paint } from "../../shared/style.ts";
import { CODES, LAYERS } from "../../shared/taxonomy.ts";
import type { NodeInfo } from "../discovery/node-identity.ts";
import type { CheckRun } from "../checks/run-checks.ts";

export function checkText(node: NodeInfo, run: CheckRun, paint: Paint, verbose: boolean): string {
  const lines: string[] = [];
  const verdict = run.verdict.toUpperCase();
  lines.push(`${paint(["bold", STATUS_COLOUR[run.verdict]], verdict)}  ${node.id}  (${run.durationMs} ms)`);
  if (run.primary) {
    const p = run.primary;
    lines.push("", `${paint("bold", "Primary:")} ${p.layer} / ${p.code}: ${CODES[p.code as keyof typeof CODES]?.title ?? p.code}`);
    lines.push(`  ${p.summary}`, `  ${paint("bold", "Next:")} ${p.action}`);
  }
  for (const layer of LAYERS) {
    const findings = run.findings.filter((f) => f.layer === layer);
    if (findings.length === 0) continue;
    lines.push("", paint("bold", layer));
    for (const f of findings) lines.push(...findingLines(f, paint, verbose));
  }
  return lines.join("\n") + "\n";
}

function findingLines(f: Finding, paint: Paint, verbose: boolean): string[] {
  const status = paint(STATUS_COLOUR[f.status], f.status.padEnd(4));
  const code = f.code ? `${f.code}: ` : "";
  const lines = [`  ${status}  ${code}${f.summary}`];
  if (f.dependsOn) lines.push(`        (a consequence of ${f.dependsOn})`);
  else if (f.action && f.status !== "ok") lines.push(`        → ${f.action}`);
  if (verbose) {
    for (const [key, value] of Object.entries(f.evidence)) lines.push(paint("gray", `        ${key}: ${value}`));
  }
  return lines;
}
