// Whose line is it? OpenClaw's default file log is per user and profile, not
// per state dir (dist/logger-*.mjs: /tmp/openclaw/openclaw-<date>.log), so
// every gateway of one user that sets OPENCLAW_STATE_DIR instead of a profile
// writes into the same file, and nothing in a record says which process wrote
// it. What a line can say is a path: "Invalid config at <state>/openclaw.json",
// a cron store under <state>/cron/. A line that names only state dirs or
// config files other than ours is another gateway's.
import { dirname } from "node:path";

/** An absolute path through a state dir (`…/.openclaw`, `…/.openclaw-work`) or to a config file. */
const STATE_PATH = /(\/[^\s"'`:,;()]*?)(?:\/(\.openclaw[^\s"'`/:,;()]*)(?=[/\s"'`:,;()]|$)|\/openclaw\.json)/g;

export function isOtherGatewaysLine(text: string, stateDir: string, configPath: string): boolean {
  const ours = new Set([stateDir, dirname(configPath)].map(trimSlash));
  let named = false;
  for (const match of text.matchAll(STATE_PATH)) {
    named = true;
    const dir = trimSlash(match[2] ? `${match[1]}/${match[2]}` : match[1]!);
    if (ours.has(dir)) return false;
  }
  return named;
}

function trimSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}
