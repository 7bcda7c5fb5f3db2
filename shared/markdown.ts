// Markdown that is safe to paste into a ticket whatever the text holds: a
// gateway log line or a path is untrusted, so it only ever appears inside a
// code span or fenced block it cannot close, with the characters a terminal
// or a renderer would act on shown as escapes instead.

/** Control characters (C0 but tab and newline, DEL, C1) and bidi overrides, which can hide or reorder text. */
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The text with invisible characters shown as `\xNN`/`\u{NNNN}` escapes. */
export function visible(text: string): string {
  return text.replace(INVISIBLE, (c) => {
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
  });
}

function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return longest;
}

/**
 * A fenced block holding `text` verbatim (made visible): the fence is longer
 * than any backtick run inside, so no line of the text can close it.
 */
export function fenced(text: string, info = "text"): string {
  const body = visible(text).replace(/\n+$/, "");
  const fence = "`".repeat(Math.max(3, longestBacktickRun(body) + 1));
  return `${fence}${info}\n${body}\n${fence}`;
}

/** An inline code span for one value (a path, a name): on one line, delimited by a longer backtick run than it holds. */
export function inlineCode(text: string): string {
  const body = visible(text.replace(/\r?\n/g, " ⏎ "));
  if (body === "") return "`\u00a0`";
  const ticks = "`".repeat(longestBacktickRun(body) + 1);
  // A span that starts or ends with a backtick needs a space inside its delimiters (CommonMark 6.1).
  const pad = body.startsWith("`") || body.endsWith("`") ? " " : "";
  return `${ticks}${pad}${body}${pad}${ticks}`;
}
