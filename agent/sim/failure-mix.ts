// `--failure-mix healthy=80,token_mismatch=5,…`: what share of the simulated
// fleet has which problem. Entries are reason codes a node's own checks report
// (shared/taxonomy.ts); codes the collector finds across the fleet are refused,
// since a simulated node cannot send them. Counts are exact: N nodes get their
// shares by largest remainder, so a seeded run matches the mix node for node.
import { CODES, isCode, type Code } from "../../shared/taxonomy.ts";
import { shuffle, type Random } from "./seeded-random.ts";

export const HEALTHY = "healthy";
export type Condition = Code | typeof HEALTHY;
export type FailureMix = ReadonlyMap<Condition, number>;

/** Found by the collector from the whole fleet (silences, clocks, shared tokens), never in a node's report. */
const COLLECTOR_CODES: ReadonlySet<Code> = new Set(Object.keys(CODES).filter((c) => CODES[c as Code].layer === "fleet" || c === "silent_asleep") as Code[]);

/** Every code a simulated node can report. */
export const NODE_CODES: readonly Code[] = (Object.keys(CODES) as Code[]).filter((c) => !COLLECTOR_CODES.has(c));

/** Roughly what a fleet of a hundred Macs shows on an ordinary day. */
export const DEFAULT_FAILURE_MIX =
  "healthy=80,token_mismatch=4,api_key_missing=3,tailscale_needs_login=3,multiple_binaries=2,config_not_applied=2,not_running=2,credential_expired=1,service_env_missing=1,serve_not_configured=1,openclaw_vulnerable=1";

export class FailureMixError extends Error {}

export function parseFailureMix(text: string): FailureMix {
  const mix = new Map<Condition, number>();
  const entries = text.split(",").map((e) => e.trim()).filter(Boolean);
  if (entries.length === 0) throw new FailureMixError("--failure-mix is empty: give CODE=WEIGHT entries, e.g. healthy=90,token_mismatch=10");
  for (const entry of entries) {
    const match = /^([a-z_]+)=(\d+(?:\.\d+)?)$/.exec(entry);
    if (!match) throw new FailureMixError(`--failure-mix entry "${entry.slice(0, 80)}" is not CODE=WEIGHT (a reason code or "healthy", "=", a number >= 0)`);
    const [, name, weight] = match as unknown as [string, string, string];
    if (name !== HEALTHY && !isCode(name)) throw new FailureMixError(`--failure-mix entry "${entry}": "${name}" is not a reason code (see shared/taxonomy.ts, e.g. token_mismatch, tailscale_needs_login) or "healthy"`);
    if (name !== HEALTHY && COLLECTOR_CODES.has(name as Code)) {
      throw new FailureMixError(`--failure-mix entry "${entry}": ${name} is found by the collector across the fleet, not reported by a node (use --sleepers for silent nodes)`);
    }
    if (mix.has(name as Condition)) throw new FailureMixError(`--failure-mix names "${name}" twice`);
    mix.set(name as Condition, Number(weight));
  }
  if ([...mix.values()].every((w) => w === 0)) throw new FailureMixError("--failure-mix: every weight is 0");
  return mix;
}

/** How many of `nodes` get each condition: floors of the shares, the rest to the largest remainders (ties in mix order). */
export function mixCounts(mix: FailureMix, nodes: number): Map<Condition, number> {
  const total = [...mix.values()].reduce((a, b) => a + b, 0);
  const shares = [...mix].map(([condition, weight], order) => ({ condition, order, exact: (nodes * weight) / total }));
  const counts = new Map(shares.map((s) => [s.condition, Math.floor(s.exact)]));
  let left = nodes - [...counts.values()].reduce((a, b) => a + b, 0);
  for (const s of [...shares].sort((a, b) => b.exact - Math.floor(b.exact) - (a.exact - Math.floor(a.exact)) || a.order - b.order)) {
    if (left-- <= 0) break;
    counts.set(s.condition, counts.get(s.condition)! + 1);
  }
  return counts;
}

/** One condition per node, in exact counts, spread over the fleet by `random`. */
export function assignConditions(mix: FailureMix, nodes: number, random: Random): Condition[] {
  const list: Condition[] = [];
  for (const [condition, count] of mixCounts(mix, nodes)) for (let i = 0; i < count; i++) list.push(condition);
  return shuffle(list, random);
}
