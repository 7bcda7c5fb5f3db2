import { readFileSync } from "node:fs";

/** clawfleet's own version, from package.json (sources run from the repo, or compiled under dist/). */
export const AGENT_VERSION: string = (() => {
  for (const relative of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "clawfleet" && pkg.version) return pkg.version;
    } catch {
      // Try the next location.
    }
  }
  return "0.0.0-unknown";
})();
