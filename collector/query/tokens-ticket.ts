// `collector query tokens --ticket`: one credential (or every one in use) as
// Markdown for a change ticket: where it is used, when it changed, what to
// roll back to, how far a change reaches. Only the collector's keyed
// fingerprints exist here; node ids and sources come from agents, so each
// sits in a code span it cannot close (shared/markdown.ts).
import type { CredentialUse, Event } from "../../shared/gen/clawfleet/v1/query_pb.ts";
import { inlineCode } from "../../shared/markdown.ts";
import { isoTime } from "./query-client.ts";

export interface CredentialGroup {
  fingerprint: string;
  kind: string;
  uses: readonly CredentialUse[];
  /** Nodes where it is in use now, sorted. */
  activeNodes: string[];
}

export interface TokensTicketInput {
  groups: readonly CredentialGroup[];
  /** credential_rotated events, any order. */
  rotations: readonly Event[];
  nowMs: number;
  /** The one fingerprint asked for; without it, every fingerprint in use. */
  fingerprint?: string;
}

const inUse = (u: CredentialUse) => !Number(u.retiredUnixMs);
/** A rotation's `from`/`to` lists every fingerprint the source held, comma-joined. */
const holds = (list: string | undefined, fingerprint: string) => (list ?? "").split(",").includes(fingerprint);

export function tokensTicket(input: TokensTicketInput): string {
  const { groups, nowMs } = input;
  const rotations = [...input.rotations].sort((a, b) => Number(a.atUnixMs) - Number(b.atUnixMs));
  const out: string[] = [];
  if (input.fingerprint) {
    const group = groups.find((g) => g.fingerprint === input.fingerprint)!;
    out.push(`## Credential ticket: ${inlineCode(group.fingerprint)} (${group.kind})`, "", intro(nowMs), "", ...credentialSections(group, rotations, "###"), "", ...changePlan([group]));
    return out.join("\n") + "\n";
  }
  const active = groups.filter((g) => g.activeNodes.length > 0);
  out.push("## Credential ticket: every credential in use", "", intro(nowMs));
  const retired = groups.length - active.length;
  if (retired > 0) out.push("", `${retired} retired fingerprint${retired === 1 ? " is" : "s are"} not shown: \`clawfleet collector query tokens --ticket --fingerprint FP\` shows one.`);
  if (active.length === 0) out.push("", "No credential is in use on any node.");
  for (const kind of [...new Set(active.map((g) => g.kind))].sort()) {
    out.push("", `### ${kind}`);
    for (const group of active.filter((g) => g.kind === kind)) {
      out.push("", `#### ${inlineCode(group.fingerprint)}: ${blastRadius(group)}`, "", ...credentialSections(group, rotations, "#####"));
    }
  }
  out.push("", ...changePlan(active));
  return out.join("\n") + "\n";
}

function intro(nowMs: number): string {
  return [
    `Frozen by \`clawfleet collector query tokens --ticket\` at ${inlineCode(isoTime(nowMs))}. Fingerprints are the collector's keyed`,
    "HMACs (`hmac:`): no secret ever reached it. A host's own `clawfleet agent check --ticket` shows the same sources with local `sha256:` fingerprints.",
  ].join("\n");
}

function blastRadius(group: CredentialGroup): string {
  const n = group.activeNodes.length;
  if (n === 0) return "retired, in use on no node";
  return `in use on ${n} node${n === 1 ? "" : "s"}${n > 1 ? " (shared: token_shared, give each node its own)" : ""}`;
}

function credentialSections(group: CredentialGroup, rotations: readonly Event[], level: string): string[] {
  const { fingerprint } = group;
  const out: string[] = [`${level} Where it is used`, `Blast radius: ${blastRadius(group)}.`];
  for (const u of group.uses.filter(inUse)) {
    out.push(`- ${inlineCode(u.nodeId)} ${inlineCode(u.source)}${u.subject ? ` for ${inlineCode(u.subject)}` : ""}, first seen ${isoTime(u.firstSeenUnixMs)}, last seen ${isoTime(u.lastSeenUnixMs)}`);
  }
  for (const u of group.uses.filter((x) => !inUse(x))) {
    out.push(`- no longer: ${inlineCode(u.nodeId)} ${inlineCode(u.source)}, from ${isoTime(u.firstSeenUnixMs)} until ${isoTime(u.retiredUnixMs)}`);
  }

  const changes = rotations.filter((e) => holds(e.detail.from, fingerprint) || holds(e.detail.to, fingerprint));
  out.push("", `${level} When it changed`);
  if (changes.length === 0) out.push("No rotation to or from it recorded.");
  for (const e of changes) {
    out.push(`- ${isoTime(e.atUnixMs)} ${inlineCode(e.nodeId)} ${inlineCode(e.detail.source ?? "")}: ${inlineCode(e.detail.from ?? "")} → ${inlineCode(e.detail.to ?? "")}`);
  }

  out.push("", `${level} What to roll back to`);
  const active = group.uses.filter(inUse);
  if (active.length === 0) out.push("Nothing uses it now; rolling back *to* it means restoring the value with this fingerprint where it was used (above).");
  for (const u of active) {
    // The last rotation at this source that brought this fingerprint in: what it replaced is the rollback point.
    const arrival = rotations.filter((e) => e.nodeId === u.nodeId && e.detail.source === u.source && e.detail.kind === u.kind && holds(e.detail.to, fingerprint)).at(-1);
    out.push(arrival
      ? `- ${inlineCode(u.nodeId)} ${inlineCode(u.source)}: ${inlineCode(arrival.detail.from ?? "")} (in use until ${isoTime(arrival.atUnixMs)})`
      : `- ${inlineCode(u.nodeId)} ${inlineCode(u.source)}: no earlier fingerprint recorded (this one since ${isoTime(u.firstSeenUnixMs)}); keep the current value until the new one works`);
  }
  return out;
}

function changePlan(groups: readonly CredentialGroup[]): string[] {
  const nodes = [...new Set(groups.flatMap((g) => g.activeNodes))].sort();
  return [
    "### Change plan",
    "- [ ] One credential at a time: rotate one fingerprint, restart the gateway on each node it reaches, confirm with `clawfleet agent check` there, then the next.",
    "- [ ] Rotation window (UTC): from ____ to ____.",
    `- [ ] Blast radius: ${nodes.length ? nodes.map(inlineCode).join(", ") : "no node"} (each shared fingerprint gets one new value per node, not one for all).`,
    "- [ ] Rollback point: the fingerprints under \"What to roll back to\"; after the change, `clawfleet collector query tokens --ticket` shows the rotation from the old to the new fingerprint.",
  ];
}
