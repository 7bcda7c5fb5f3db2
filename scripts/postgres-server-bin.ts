// Where PostgreSQL's server programs (initdb, postgres) are. Debian keeps them
// off PATH, in /usr/lib/postgresql/<major>/bin (postgresql-common wraps only the
// clients), so PATH alone cannot tell whether the server is installed.
import { execFileSync } from "node:child_process";
import { accessSync, constants, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";

const SERVER_PROGRAMS = ["initdb", "postgres"] as const;
const DEBIAN_ROOT = "/usr/lib/postgresql";

function holdsServer(dir: string): boolean {
  return SERVER_PROGRAMS.every((name) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The directory holding initdb and postgres, or undefined when the server is not installed. */
export function postgresServerBinDir(): string | undefined {
  const candidates: string[] = [];
  try {
    // libpq-dev's pg_config answers even without the server: the directory is checked below.
    candidates.push(execFileSync("pg_config", ["--bindir"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
  } catch {
    // No pg_config.
  }
  try {
    const majors = readdirSync(DEBIAN_ROOT).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...majors.map((major) => join(DEBIAN_ROOT, major, "bin")));
  } catch {
    // Not Debian's layout.
  }
  candidates.push(...(process.env.PATH ?? "").split(delimiter).filter(Boolean));
  return candidates.find(holdsServer);
}
