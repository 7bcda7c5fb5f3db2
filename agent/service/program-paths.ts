// The two absolute paths a service needs to start the agent: a Node >= 24.16
// and clawfleet's launcher. Neither may depend on the service's PATH: launchd
// gives jobs /usr/bin:/bin:/usr/sbin:/sbin, and the first `node` on the
// gateway's PATH may be an older Node the launcher refuses.
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The clawfleet package this code runs from: a checkout, or the installed package (sources or dist/). */
export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "clawfleet") return dir;
      } catch {
        // Not ours; keep climbing.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find clawfleet's package.json above this module");
    dir = parent;
  }
}

/** bin/clawfleet.js of this package: it picks dist/ or the TypeScript sources itself. */
export function launcherPath(root: string = packageRoot()): string {
  return join(root, "bin", "clawfleet.js");
}

/**
 * The Node running now (proven new enough), named by a stable path when one
 * exists: Node reports its resolved path (e.g. Homebrew's
 * /opt/homebrew/Cellar/node/24.x/bin/node, gone after `brew upgrade`), so a
 * `node` on the given PATHs that resolves to the same file is preferred
 * (/opt/homebrew/bin/node).
 */
export function stableNodePath(execPath: string, searchPaths: readonly (string | undefined)[]): string {
  let real: string;
  try {
    real = realpathSync(execPath);
  } catch {
    return execPath;
  }
  for (const path of searchPaths) {
    for (const dir of (path ?? "").split(delimiter)) {
      if (!dir.startsWith("/")) continue;
      const candidate = join(dir, "node");
      try {
        if (realpathSync(candidate) === real) return candidate;
      } catch {
        // Not there.
      }
    }
  }
  return execPath;
}
