// Known advisories as data: the bundled file plus an operator's own
// (CLAWFLEET_ADVISORIES), so a new CVE needs no new clawfleet release.
import { readFileSync } from "node:fs";
// semver's functions one by one: its index loads all 46 of its modules, a tenth of `agent check`'s start.
import clean from "semver/functions/clean.js";
import compareBuild from "semver/functions/compare-build.js";
import parse from "semver/functions/parse.js";
import satisfies from "semver/functions/satisfies.js";
import validRange from "semver/ranges/valid.js";
import type SemVer from "semver/classes/semver.js";

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

/**
 * OpenClaw's own version order (openclaw dist/semver-*.mjs compareOpenClawSemver
 * and normalizeLegacyDotBetaVersion, on the `semver` package it pins): SemVer,
 * except that a lone numeric pre-release (`2026.3.1-1`) is a correction published
 * *after* 2026.3.1, and a legacy `2026.3.1.beta.2` is `2026.3.1-beta.2`.
 * Undefined when either side is not a version: the caller cannot tell.
 */
export function compareVersions(a: string, b: string): number | undefined {
  const x = parseOpenClawVersion(a);
  const y = parseOpenClawVersion(b);
  return x && y ? compareBuild(comparable(x), comparable(y)) : undefined;
}

function parseOpenClawVersion(version: string): SemVer | null {
  const trimmed = version.trim();
  const dotBeta = /^([vV]?[0-9]+\.[0-9]+\.[0-9]+)\.beta(?:\.([0-9A-Za-z.-]+))?$/.exec(trimmed);
  return parse(dotBeta ? `${dotBeta[1]}-beta${dotBeta[2] ? `.${dotBeta[2]}` : ""}` : trimmed);
}

function comparable(version: SemVer): string {
  const correction = version.prerelease.length === 1 && typeof version.prerelease[0] === "number";
  return correction ? `${version.major}.${version.minor}.${version.patch}+${version.prerelease[0]}` : version.version;
}

/** The advisories a version is affected by, and those it cannot be compared with (an unparsable version on either side). */
export function affecting(advisories: readonly Advisory[], version: string): { affected: Advisory[]; cannotTell: Advisory[] } {
  const affected: Advisory[] = [];
  const cannotTell: Advisory[] = [];
  for (const advisory of advisories) {
    const order = compareVersions(version, advisory.affectedUpTo);
    if (order === undefined) cannotTell.push(advisory);
    else if (order <= 0) affected.push(advisory);
  }
  return { affected, cannotTell };
}

/**
 * Whether a Node version satisfies an npm `engines` range, as npm checks it
 * (npm-install-checks: `semver.satisfies(version, range, { includePrerelease: true })`).
 * Undefined when the version or the range is not one semver understands:
 * an unknown range is "cannot tell", never "satisfied".
 */
export function satisfiesEngines(version: string, range: string): boolean | undefined {
  const cleaned = clean(version);
  if (!cleaned || validRange(range) === null) return undefined;
  return satisfies(cleaned, range, { includePrerelease: true });
}
