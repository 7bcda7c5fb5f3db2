// Findings, and the verdict computed from them: the primary finding is the root
// cause by dependency order, never hand-picked by a check.
import { CODES, LAYERS, STATUS_RANK, renderAction, type Code, type Layer, type Status } from "./taxonomy.ts";

export interface Finding {
  check: string;
  layer: Layer;
  status: Status;
  /** Empty for a passed or skipped check that has nothing to report. */
  code: Code | "";
  summary: string;
  action: string;
  evidence: Record<string, string>;
  /** Code of the finding this one is a consequence of. */
  dependsOn?: Code;
}

export type Verdict = "ok" | "warn" | "fail" | "unknown";

/** A problem found by a check, with the taxonomy's status and action. */
export function problem(check: string, code: Code, summary: string, evidence: Record<string, string> = {}, status?: Status): Finding {
  const spec = CODES[code];
  return { check, layer: spec.layer, status: status ?? spec.severity, code, summary, action: renderAction(code, evidence), evidence };
}

/** A passed check: what was verified, so `--verbose` and the collector show it. */
export function passed(check: string, layer: Layer, summary: string, evidence: Record<string, string> = {}): Finding {
  return { check, layer, status: "ok", code: "", summary, action: "", evidence };
}

/** A check that did not apply on this host (no Tailscale, not macOS…). */
export function skipped(check: string, layer: Layer, summary: string, evidence: Record<string, string> = {}): Finding {
  return { check, layer, status: "skip", code: "", summary, action: "", evidence };
}

export function isProblem(finding: Finding): finding is Finding & { code: Code } {
  return finding.code !== "" && (finding.status === "warn" || finding.status === "fail" || finding.status === "error");
}

/**
 * Marks each problem that is a consequence of another (per the taxonomy's
 * dependsOn) and returns the findings in dependency order.
 */
export function linkDependencies(findings: readonly Finding[]): Finding[] {
  const problems = findings.filter(isProblem);
  const failingLayers = new Set(problems.filter((f) => f.status === "fail").map((f) => f.layer));
  const presentCodes = new Set(problems.map((f) => f.code));
  const linked = findings.map((finding) => {
    if (!isProblem(finding)) return { ...finding };
    const cause = (CODES[finding.code] as { dependsOn?: readonly string[] }).dependsOn?.find((dep) =>
      dep.startsWith("layer:") ? failingLayers.has(dep.slice(6) as Layer) && dep.slice(6) !== finding.layer : presentCodes.has(dep as Code),
    );
    if (!cause) return { ...finding };
    const causeCode = cause.startsWith("layer:") ? problems.find((p) => p.layer === cause.slice(6) && p.status === "fail")!.code : (cause as Code);
    return { ...finding, dependsOn: causeCode };
  });
  return linked.sort(byDependencyOrder);
}

function byDependencyOrder(a: Finding, b: Finding): number {
  return LAYERS.indexOf(a.layer) - LAYERS.indexOf(b.layer) || STATUS_RANK[b.status] - STATUS_RANK[a.status];
}

/**
 * The root cause: among independent problems, the worst, then the one that
 * explains the earliest layer. A cause ranks with the earliest finding it
 * explains (an invalid config that keeps the gateway down outranks a missing
 * provider key, though drift comes after provider), else with its own layer.
 */
export function primaryFinding(findings: readonly Finding[]): Finding | null {
  const roots = findings.filter((f) => isProblem(f) && !f.dependsOn);
  if (roots.length === 0) return null;
  const worst = Math.max(...roots.map((f) => STATUS_RANK[f.status]));
  const explains = (root: Finding) => Math.min(LAYERS.indexOf(root.layer), ...findings.filter((f) => f.dependsOn === root.code).map((f) => LAYERS.indexOf(f.layer)));
  return roots.filter((f) => STATUS_RANK[f.status] === worst).sort((a, b) => explains(a) - explains(b) || byDependencyOrder(a, b))[0] ?? null;
}

export function verdictOf(findings: readonly Finding[]): Verdict {
  let verdict: Verdict = "ok";
  for (const finding of findings) {
    if (finding.status === "fail") return "fail";
    if (finding.status === "warn") verdict = "warn";
    if (finding.status === "error" && verdict === "ok") verdict = "unknown";
  }
  return verdict;
}

/** Nagios plugin convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
export const EXIT_STATUS: Record<Verdict, number> = { ok: 0, warn: 1, fail: 2, unknown: 3 };
