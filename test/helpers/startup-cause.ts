// What every startup-cause scenario asserts on `agent check --json`: the cause
// is the primary finding, the down gateway is marked as its consequence, and
// the real gateway's own refusal is the line the fatal-line table maps to it.
import { expect } from "vitest";
import { FATAL_LINES, matchFatalLine } from "../../agent/discovery/gateway-fatal-lines.ts";
import { CODES, type Code } from "../../shared/taxonomy.ts";
import type { CheckDocument } from "./processes.ts";

export function expectCause(doc: CheckDocument, code: Code, consequence = "not_running"): void {
  expect(doc.primary, JSON.stringify(doc.findings.map((f) => [f.code, f.status, f.depends_on]))).toMatchObject({ code, layer: CODES[code].layer });
  expect(doc.findings.filter((f) => f.code === code), "one fact, one finding").toHaveLength(1);
  expect(doc.findings.find((f) => f.code === consequence)?.depends_on).toBe(code);
  // Never "start it" as the advice while it cannot start.
  expect(doc.primary!.action).not.toMatch(/^Start the gateway/);
}

/** The newest line of the gateway's output the table knows, and its code. */
export function refusalIn(output: string): { code: Code; line: string } | undefined {
  const lines = output.split("\n").map((text) => matchFatalLine(text)).filter((m) => m !== undefined);
  const last = lines.at(-1);
  return last ? { code: last.entry.code, line: last.text } : undefined;
}

/** The table's prefixes for one code, as a pattern to wait for in the gateway's output. */
export function refusalPattern(code: Code): RegExp {
  const prefixes = FATAL_LINES.filter((e) => e.code === code).map((e) => e.prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(prefixes.join("|"));
}
