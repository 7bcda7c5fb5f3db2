// Globs matched without a regular expression: a pattern turned into a RegExp
// fails on an unclosed `[` (SyntaxError) and backtracks exponentially on
// `*a*a*a…` against a long name. Two syntaxes: "glob3", file names as glob(3)
// reads them in systemd's EnvironmentFile= (`*`, `?`, `[abc]`, `[a-z]`, `[!x]`),
// and "wildcards", node-id filters (`*` and `?` only; `[` is literal, as node
// ids cannot contain it).

type Token = { kind: "star" } | { kind: "one" } | { kind: "literal"; ch: string } | { kind: "set"; negated: boolean; ranges: [string, string][] };

export type GlobSyntax = "glob3" | "wildcards";

function tokenize(pattern: string, syntax: GlobSyntax): Token[] {
  const tokens: Token[] = [];
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === "*") {
      if (tokens.at(-1)?.kind !== "star") tokens.push({ kind: "star" });
    } else if (ch === "?") tokens.push({ kind: "one" });
    else if (ch === "[" && syntax === "glob3") {
      const set = readSet(chars, i + 1);
      if (set) {
        tokens.push(set.token);
        i = set.end;
      } else tokens.push({ kind: "literal", ch }); // unclosed: glob(3) takes `[` literally
    } else tokens.push({ kind: "literal", ch });
  }
  return tokens;
}

/** `[…]` from just after the `[`: a `]` first in the set is a member; undefined when it never closes. */
function readSet(chars: string[], from: number): { token: Token; end: number } | undefined {
  let i = from;
  const negated = chars[i] === "!" || chars[i] === "^";
  if (negated) i++;
  const ranges: [string, string][] = [];
  for (let first = true; i < chars.length; i++, first = false) {
    const ch = chars[i]!;
    if (ch === "]" && !first) return { token: { kind: "set", negated, ranges }, end: i };
    if (chars[i + 1] === "-" && chars[i + 2] !== undefined && chars[i + 2] !== "]") {
      ranges.push([ch, chars[i + 2]!]);
      i += 2;
    } else ranges.push([ch, ch]);
  }
  return undefined;
}

function matchesOne(token: Token, ch: string): boolean {
  switch (token.kind) {
    case "one": return true;
    case "literal": return token.ch === ch;
    case "set": return token.ranges.some(([lo, hi]) => lo <= ch && ch <= hi) !== token.negated;
    case "star": return false;
  }
}

/**
 * Whether `name` matches `pattern`. The classic two-pointer wildcard match:
 * on a mismatch only the latest `*` takes one more character, which is
 * enough for `*` and keeps the work within pattern length × name length.
 */
export function globMatch(pattern: string, name: string, syntax: GlobSyntax = "glob3"): boolean {
  const tokens = tokenize(pattern, syntax);
  const chars = [...name];
  let t = 0;
  let c = 0;
  let starT = -1;
  let starC = 0;
  while (c < chars.length) {
    const token = tokens[t];
    if (token?.kind === "star") {
      starT = t++;
      starC = c;
    } else if (token && matchesOne(token, chars[c]!)) {
      t++;
      c++;
    } else if (starT >= 0) {
      t = starT + 1;
      c = ++starC;
    } else return false;
  }
  while (tokens[t]?.kind === "star") t++;
  return t === tokens.length;
}

export function hasGlob(name: string): boolean {
  return /[*?[]/.test(name);
}
