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
  const advisories = parseAdvisories(readFileSync(BUNDLED, "utf8"), "bundled advisories");
  if (!extraPath) return { advisories };
  try {
    return { advisories: [...advisories, ...parseAdvisories(readFileSync(extraPath, "utf8"), extraPath)] };
  } catch (error) {
    return { advisories, error: (error as Error).message };
  }
}

/** Every way the file can be wrong is an Error naming `where` and the field, never a TypeError. */
export function parseAdvisories(text: string, where: string): Advisory[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where}: not valid JSON (${(error as Error).message.slice(0, 120)})`);
  }
  const list = isObject(doc) ? doc.advisories : undefined;
  if (!Array.isArray(list)) throw new Error(`${where}: "advisories" must be a list`);
  return list.map((a: unknown, i) => {
    if (!isObject(a)) throw new Error(`${where}: advisories[${i}] must be an object`);
    for (const field of ["id", "affectedUpTo", "fixedIn"] as const) {
      if (typeof a[field] !== "string") throw new Error(`${where}: advisories[${i}].${field} must be a string`);
    }
    if (a.title !== undefined && typeof a.title !== "string") throw new Error(`${where}: advisories[${i}].title must be a string`);
    if (a.sources !== undefined && !(Array.isArray(a.sources) && a.sources.every((s) => typeof s === "string"))) {
      throw new Error(`${where}: advisories[${i}].sources must be a list of strings`);
    }
    const id = a.id as string;
    return { id, title: (a.title as string | undefined) ?? id, affectedUpTo: a.affectedUpTo as string, fixedIn: a.fixedIn as string, sources: (a.sources as string[] | undefined) ?? [] };
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
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
