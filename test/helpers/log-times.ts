// Recorded logs carry the times they were recorded at; tests move them to "now"
// so that age bounds treat them as fresh.

/** Moves every ISO timestamp in a recording so that its last one is `endMs`. */
export function shiftTimes(text: string, endMs: number): string {
  const iso = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:Z|[+-]\d\d:\d\d)/g;
  const times = [...text.matchAll(iso)].map((m) => Date.parse(m[0]));
  const delta = endMs - Math.max(...times);
  return text.replace(iso, (t) => new Date(Date.parse(t) + delta).toISOString());
}
