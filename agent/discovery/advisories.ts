// Known advisories as data: the bundled file plus an operator's own
// (CLAWFLEET_ADVISORIES), so a new CVE needs no new clawfleet release.
import { readFileSync } from "node:fs";

export interface Advisory {
  id: string;
  title: string;
  /** Last affected version, inclusive. */
  affectedUpTo: string;
  fixedIn: string;
  sources: string[];
}

const BUNDLED = new URL("../../shared/advisories.json", import.meta.url);

export function loadAdvisories(extraPath?: string): { advisories: Advisory[]; error?: string } {
  const advisories = parse(readFileSync(BUNDLED, "utf8"), "bundled advisories");
  if (!extraPath) return { advisories };
  try {
    return { advisories: [...advisories, ...parse(readFileSync(extraPath, "utf8"), extraPath)] };
  } catch (error) {
    return { advisories, error: (error as Error).message };
  }
}

function parse(text: string, where: string): Advisory[] {
  const doc = JSON.parse(text) as { advisories?: unknown };
  if (!Array.isArray(doc.advisories)) throw new Error(`${where}: "advisories" must be a list`);
  return doc.advisories.map((a, i) => {
    const entry = a as Partial<Advisory>;
    for (const field of ["id", "affectedUpTo", "fixedIn"] as const) {
      if (typeof entry[field] !== "string") throw new Error(`${where}: advisories[${i}].${field} must be a string`);
    }
    return { id: entry.id!, title: entry.title ?? entry.id!, affectedUpTo: entry.affectedUpTo!, fixedIn: entry.fixedIn!, sources: entry.sources ?? [] };
  });
}

/** Compares dotted numeric versions ("2026.1.28", "24.16.0"); pre-release suffixes sort before the release. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.replace(/^v/, "").split("-", 2);
    return { parts: core!.split(".").map((p) => Number.parseInt(p, 10) || 0), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < Math.max(x.parts.length, y.parts.length); i++) {
    const d = (x.parts[i] ?? 0) - (y.parts[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre && !y.pre) return -1;
  if (!x.pre && y.pre) return 1;
  return 0;
}

export function affecting(advisories: readonly Advisory[], version: string): Advisory[] {
  return advisories.filter((a) => compareVersions(version, a.affectedUpTo) <= 0);
}

/** Whether a version satisfies an npm `engines` range of the simple forms OpenClaw uses (">=24.16.0 <25 || >=26.1.0"). */
export function satisfiesEngines(version: string, range: string): boolean {
  return range.split("||").some((clause) =>
    clause.trim().split(/\s+/).every((term) => {
      const match = /^(>=|<=|>|<|=)?v?([\d.]+)$/.exec(term);
      if (!match) return true; // unknown syntax: do not cry wolf
      const c = compareVersions(version, match[2]!);
      switch (match[1]) {
        case ">=": return c >= 0;
        case ">": return c > 0;
        case "<=": return c <= 0;
        case "<": return c < 0;
        default: return c === 0;
      }
    }),
  );
}
