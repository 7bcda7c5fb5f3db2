// "30s", "1m30s", "500ms", "2h" → milliseconds, for flags and config.
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** One number-and-unit; sticky, so each is tried only where the previous ended (a global scan is quadratic on a long run of digits). */
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

export function parseDuration(text: string): number {
  // Quoted shortened: the text is whatever was typed or configured, possibly huge.
  const quoted = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
  let ms = 0;
  let at = 0;
  while (at < text.length) {
    PART.lastIndex = at;
    const part = PART.exec(text);
    if (!part) break;
    ms += Number(part[1]) * UNIT_MS[part[2]!]!;
    at = PART.lastIndex;
  }
  if (text.length === 0 || at < text.length) throw new Error(`${quoted} is not a duration (examples: 500ms, 30s, 5m, 1h)`);
  // A few hundred digits still match the pattern and overflow to Infinity.
  if (!Number.isSafeInteger(Math.round(ms))) throw new Error(`${quoted} is too long a duration`);
  return ms;
}

export function formatAge(ms: number): string {
  if (ms < 0) return "in the future";
  const s = Math.round(ms / 1000);
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  if (s < 129_600) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}
