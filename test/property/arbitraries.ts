// Shared generators and checks for the parser property tests: fully random
// text and bytes, mutations of the recorded fixtures, ~1 MB adversarial inputs,
// and the two properties every parser of untrusted input must have (no
// unexpected exception, bounded time). Runs use one fixed seed, which
// fast-check prints with any counterexample, so a failure replays exactly;
// set FC_SEED to explore other seeds.
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { expect } from "vitest";

export const SEED = Number(process.env.FC_SEED ?? 20261205);
fc.configureGlobal({ seed: SEED, numRuns: 200 });

export const MB = 1 << 20;

/** Per-call budget for a 1 MB input: linear parsers take a few ms; quadratic ones take seconds. */
export const BUDGET_MS = 200;

const FIXTURES = join(import.meta.dirname, "..", "fixtures");

/** A recorded fixture: the stdout section of a command recording, or the whole file. */
export function fixture(relativePath: string): string {
  const text = readFileSync(join(FIXTURES, relativePath), "utf8");
  const marker = "# ---- stdout\n";
  const at = text.indexOf(marker);
  if (at < 0) return text;
  const stdout = text.slice(at + marker.length);
  const stderrAt = stdout.indexOf("# ---- stderr");
  return stderrAt < 0 ? stdout : stdout.slice(0, stderrAt);
}

/** Tokens that break naive parsers: huge, negative and NaN-ish numbers, NUL, lone surrogates, brackets, quotes, escapes. */
export const NASTY_TOKENS: readonly string[] = [
  "9".repeat(400), "18446744073709551616", "-1", "-0", "NaN", "Infinity", "-Infinity", "1e309", "0x", "00", "4294967295",
  "\0", "\uFFFD", "\uD800", "\uDFFF", "\u2028", "\u00A0", "\r", "\t", "\n", "\r\n", "\v", "\f",
  "{", "}", "[", "]", "(", ")", "<", ">", '"', "'", "`", "\\", "\\\n", "=", " = ", " => ", ":", ";", " ; ", ",", "#", "%", "%%", "%Z", "$", "${", "${A}", "$${A}",
  "\\x", "\\x4", "\\u12", "\\UFFFFFFFF", "\\U0010FFFF", "\\777", "\\0", " ".repeat(64), "__proto__", "constructor", "export ", "-",
];

/** Any string: full Unicode (lone surrogates included), ASCII, decoded random bytes (invalid UTF-8), or nasty tokens. */
export const anyText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.string({ unit: "binary-ascii", maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString("utf8")),
  fc.array(fc.constantFrom(...NASTY_TOKENS), { maxLength: 30 }).map((parts) => parts.join("")),
);

/** Text built from a parser's own vocabulary, so random inputs reach deep states. */
export function textFrom(vocabulary: readonly string[], maxLength = 60): fc.Arbitrary<string> {
  return fc.array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...vocabulary) }, { weight: 1, arbitrary: fc.constantFrom(...NASTY_TOKENS) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }), { maxLength }).map((parts) => parts.join(""));
}

type Mutation = (lines: string[], text: string) => string[] | string;

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((i): Mutation => (lines) => lines.filter((_, n) => n !== i % lines.length)),
  fc.nat().map((i): Mutation => (lines) => lines.flatMap((l, n) => (n === i % lines.length ? [l, l] : [l]))),
  fc.tuple(fc.nat(), fc.nat()).map(([i, j]): Mutation => (lines) => {
    const out = [...lines];
    const a = i % out.length;
    const b = j % out.length;
    [out[a], out[b]] = [out[b]!, out[a]!];
    return out;
  }),
  fc.nat().map((k): Mutation => (_, text) => text.slice(0, k % (text.length + 1))),
  fc.tuple(fc.nat(), fc.constantFrom(...NASTY_TOKENS)).map(([k, token]): Mutation => (_, text) => {
    const at = k % (text.length + 1);
    return text.slice(0, at) + token + text.slice(at);
  }),
  fc.tuple(fc.nat(), anyText).map(([i, line]): Mutation => (lines) => lines.map((l, n) => (n === i % lines.length ? line : l))),
  // Every number on a line becomes a huge, negative or NaN-ish one.
  fc.tuple(fc.nat(), fc.constantFrom("9".repeat(400), "-5", "NaN", "1e309", "0")).map(([i, n]): Mutation => (lines) => lines.map((l, k) => (k === i % lines.length ? l.replace(/\d+/g, n) : l))),
  fc.tuple(fc.nat(), fc.nat({ max: 2000 })).map(([i, width]): Mutation => (lines) => lines.map((l, n) => (n === i % lines.length ? `${l.slice(0, l.length >> 1)}${" ".repeat(width)}${l.slice(l.length >> 1)}` : l))),
);

/** A recorded fixture with 1-6 line- or byte-level mutations. */
export function mutationsOf(...texts: string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...texts), fc.array(mutation, { minLength: 1, maxLength: 6 })).map(([text, ops]) =>
    ops.reduce((current, op) => {
      const lines = current.split("\n");
      const out = op(lines.length > 0 ? lines : [""], current);
      return typeof out === "string" ? out : out.join("\n");
    }, text),
  );
}

/** Random text, parser vocabulary and fixture mutations, in one arbitrary. */
export function inputsFor(vocabulary: readonly string[], ...fixtures: string[]): fc.Arbitrary<string> {
  return fc.oneof(anyText, textFrom(vocabulary), ...(fixtures.length > 0 ? [mutationsOf(...fixtures)] : []));
}

/** A huge input described by how it is built, so it can be built small first (see expectWithinBudget). */
export interface Huge {
  label: string;
  build(size: number): string;
}

function fill(unit: string, size: number): string {
  return unit.repeat(Math.ceil(size / Math.max(1, unit.length))).slice(0, size);
}

/** A pattern (a few vocabulary tokens, or a fixture) repeated to the size, between a prefix and a suffix. */
export function hugeFrom(vocabulary: readonly string[], ...fixtures: string[]): fc.Arbitrary<Huge> {
  const unit = fc.oneof(
    fc.array(fc.constantFrom(...vocabulary, ...NASTY_TOKENS.filter((t) => t.length < 100)), { minLength: 1, maxLength: 3 }).map((parts) => parts.join("")),
    ...(fixtures.length > 0 ? [fc.constantFrom(...fixtures)] : []),
  );
  return fc.tuple(fc.option(fc.constantFrom(...vocabulary, ...fixtures), { nil: "" }), unit.filter((u) => u.length > 0), fc.option(fc.constantFrom(...vocabulary), { nil: "" })).map(([prefix, pattern, suffix]) => ({
    label: `${JSON.stringify(prefix.slice(0, 40))} + ${JSON.stringify(pattern.slice(0, 40))}… + ${JSON.stringify(suffix.slice(0, 40))}`,
    build: (size: number) => prefix + fill(pattern, size) + suffix,
  }));
}

/** Classic huge shapes: one character repeated, a long run of blanks or digits inside real output, real output repeated. */
export function hugeShapes(...fixtures: string[]): Huge[] {
  const shapes: Huge[] = [" ", "\n", "\t", "1", "a", "\\", "{", "\\\n", "\0", "\uFFFD", " \n", "a \n", "= ", ") ", ": "].map((c) => ({ label: `${JSON.stringify(c)} repeated`, build: (size: number) => fill(c, size) }));
  for (const text of fixtures) {
    const firstLine = text.split("\n").find((l) => l.trim()) ?? "x";
    const name = JSON.stringify(firstLine.slice(0, 30));
    shapes.push({ label: `blank run after ${name}`, build: (size) => `${text}\n${firstLine.slice(0, 8)}${" ".repeat(size)}x y\n${text}` });
    shapes.push({ label: `blank run inside ${name}`, build: (size) => `${text}\n${firstLine}${" ".repeat(size)}${firstLine}\n` });
    shapes.push({ label: `digit run after ${name}`, build: (size) => `${text}\n${firstLine.slice(0, 8)}${"9".repeat(size)}x\n` });
    shapes.push({ label: `${name}… repeated`, build: (size) => fill(text, size) });
    // The real text's own separators (" ; ", " = ", "=>") repeated after it: what lazy groups rescan.
    if (text.length < 300) for (const separator of new Set(text.match(/[^\w\s]+\S*|\s[^\w\s]+\s/g) ?? [])) {
      if (separator.length > 1) shapes.push({ label: `${JSON.stringify(separator)} repeated after ${name}`, build: (size) => text + fill(separator, size) });
    }
  }
  return shapes;
}

/**
 * Calls `parse`; a throw fails unless `documented` accepts it. The message
 * carries the input's start, so a shrunk counterexample reads on its own.
 */
export function parsesOrFailsCleanly<T>(input: string, parse: () => T, documented?: (error: Error) => boolean): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (documented && error instanceof Error && !(error instanceof TypeError) && !(error instanceof RangeError) && documented(error)) return undefined;
    throw new Error(`unexpected ${(error as Error)?.constructor?.name ?? typeof error} on ${describeInput(input)}: ${(error as Error)?.message}`, { cause: error });
  }
}

/**
 * Sizes and budgets: a linear parser fits all three; a quadratic one fails at
 * a small size within a second instead of blocking the worker for an hour on
 * the full megabyte (a synchronous loop cannot be timed out).
 */
const STAGES: readonly { size: number; budgetMs: number }[] = [
  { size: MB / 64, budgetMs: BUDGET_MS / 8 },
  { size: MB / 8, budgetMs: BUDGET_MS / 3 },
  { size: MB, budgetMs: BUDGET_MS },
];

/**
 * A parser may take this many times as long as one plain pass over the same
 * text (split into words, split into lines, one regex test per line). On a busy machine both
 * slow down together, so the budget stretches with the load instead of
 * failing on it; a quadratic parser still falls far outside it.
 */
const REFERENCE_MULTIPLE = 8;

/**
 * The budgets are for an idle machine; this one has 2 cores shared by several
 * test runs. With more runnable processes than cores each gets a share, so
 * the budget grows by the 1-minute load per core (never shrinks below 1).
 */
function loadFactor(): number {
  return Math.max(1, loadavg()[0]! / availableParallelism());
}

function referencePassMs(text: string): number {
  let best = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 2; attempt++) {
    const started = performance.now();
    let count = text.split(/\s+/).length;
    for (const line of text.split("\n")) if (/\S/.test(line)) count++;
    best = Math.min(best, performance.now() - started);
    if (count < 0) throw new Error("unreachable"); // keeps the loop from being optimised away
  }
  return best;
}

/**
 * Fails when parsing the built input takes longer than its budget three times in a
 * row (retries absorb a GC or a busy neighbour), at each of the STAGES. The
 * budget is the stage's, or REFERENCE_MULTIPLE plain passes when the machine
 * is too busy for that. Returns the best time at 1 MB.
 */
export function expectWithinBudget(label: string, huge: Huge, parse: (text: string) => unknown): number {
  let best = 0;
  for (const stage of STAGES) {
    const text = huge.build(stage.size);
    const budgetMs = Math.max(stage.budgetMs * loadFactor(), REFERENCE_MULTIPLE * referencePassMs(text));
    best = Number.POSITIVE_INFINITY;
    for (let attempt = 0; attempt < 3 && best > budgetMs; attempt++) {
      const started = performance.now();
      try {
        parse(text);
      } catch {
        // Errors are the other property's business; only time counts here.
      }
      best = Math.min(best, performance.now() - started);
    }
    expect(best, `${label} took ${best.toFixed(0)} ms (budget ${budgetMs.toFixed(0)} ms, load ×${loadFactor().toFixed(1)}) on ${huge.label} (${text.length} chars)`).toBeLessThanOrEqual(budgetMs);
  }
  return best;
}

export async function expectWithinBudgetAsync(label: string, huge: Huge, parse: (text: string) => Promise<unknown>): Promise<number> {
  let best = 0;
  for (const stage of STAGES) {
    const text = huge.build(stage.size);
    const budgetMs = Math.max(stage.budgetMs * loadFactor(), REFERENCE_MULTIPLE * referencePassMs(text));
    best = Number.POSITIVE_INFINITY;
    for (let attempt = 0; attempt < 3 && best > budgetMs; attempt++) {
      const started = performance.now();
      await parse(text).catch(() => undefined);
      best = Math.min(best, performance.now() - started);
    }
    expect(best, `${label} took ${best.toFixed(0)} ms (budget ${budgetMs.toFixed(0)} ms, load ×${loadFactor().toFixed(1)}) on ${huge.label} (${text.length} chars)`).toBeLessThanOrEqual(budgetMs);
  }
  return best;
}

export function describeInput(input: string): string {
  return `a ${input.length}-char input starting ${JSON.stringify(input.slice(0, 80))}`;
}

/** `[[[…]]]` / `{"a":{"a":…}}` to the given depth. */
export function deeplyNestedJson(depth: number, kind: "array" | "object"): string {
  return kind === "array" ? `${"[".repeat(depth)}${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}
