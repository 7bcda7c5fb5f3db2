// Files and directories that hold OpenClaw secrets, and whether anyone but
// their owner can read them. OpenClaw itself writes them 0600 / 0700.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export interface SecretFileProblem {
  path: string;
  mode: string;
  reason: string;
}

/** The secret-bearing paths of a state dir, plus extra files (service env files, config). */
export function secretPaths(stateDir: string, extra: readonly string[]): string[] {
  const paths = new Set<string>([stateDir, join(stateDir, ".env"), join(stateDir, "openclaw.json"), join(stateDir, "credentials"), ...extra]);
  for (const sub of ["service-env", "credentials", "state"]) {
    for (const name of safeList(join(stateDir, sub))) paths.add(join(stateDir, sub, name));
  }
  for (const agent of safeList(join(stateDir, "agents"))) {
    for (const name of safeList(join(stateDir, "agents", agent, "agent"))) {
      if (/\.(sqlite|json)$/.test(name)) paths.add(join(stateDir, "agents", agent, "agent", name));
    }
  }
  return [...paths];
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Paths readable by group/others or owned by someone else; missing paths are skipped. */
export function exposedSecrets(paths: readonly string[], uid: number): SecretFileProblem[] {
  const problems: SecretFileProblem[] = [];
  for (const path of paths) {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      continue;
    }
    const mode = (stat.mode & 0o777).toString(8).padStart(3, "0");
    if (stat.uid !== uid) problems.push({ path, mode, reason: `owned by uid ${stat.uid}, not ${uid}` });
    // A directory others may list and enter exposes names and anything mis-moded inside.
    else if (stat.isDirectory() ? (stat.mode & 0o007) !== 0 || (stat.mode & 0o020) !== 0 : (stat.mode & 0o077) !== 0) {
      problems.push({ path, mode, reason: stat.isDirectory() ? "directory open to group/others" : "readable by group/others" });
    }
  }
  return problems;
}
