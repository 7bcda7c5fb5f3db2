// Shell history files, searched for live secrets. A token pasted into
// `export OPENCLAW_GATEWAY_TOKEN=…` or `curl -H "Authorization: Bearer …"`
// stays readable in history long after it is rotated elsewhere.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const HISTORY_FILES = [".zsh_history", ".bash_history", ".history", ".sh_history", join(".local", "share", "fish", "fish_history")];

/** Read no more than the tail of a huge history: recent lines are the live risk. */
const MAX_BYTES = 8 * 1024 * 1024;

/** Secrets shorter than this match by accident too easily. */
export const MIN_SECRET_LENGTH = 12;

export function historyFiles(home: string, env: Readonly<Record<string, string | undefined>>): string[] {
  const paths = new Set(HISTORY_FILES.map((f) => join(home, f)));
  if (env.HISTFILE) paths.add(env.HISTFILE);
  return [...paths];
}

/** For each history file that contains any of the secrets, which ones (by value). */
export function secretsInHistory(paths: readonly string[], secrets: readonly string[]): { path: string; secrets: string[] }[] {
  const candidates = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH))];
  if (candidates.length === 0) return [];
  const hits: { path: string; secrets: string[] }[] = [];
  for (const path of paths) {
    let text: string;
    try {
      const size = statSync(path).size;
      const buffer = readFileSync(path);
      text = buffer.subarray(Math.max(0, size - MAX_BYTES)).toString("utf8");
    } catch {
      continue;
    }
    const found = candidates.filter((secret) => text.includes(secret));
    if (found.length > 0) hits.push({ path, secrets: found });
  }
  return hits;
}
