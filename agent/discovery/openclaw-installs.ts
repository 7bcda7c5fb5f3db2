// Every `openclaw` on a PATH (like `which -a`), resolved to its install and
// version by reading package.json, never by running it: the CLI is slow and
// not read-only.
import { accessSync, constants, realpathSync, statSync } from "node:fs";
import { basename, delimiter, dirname, join } from "node:path";
import { readManifest } from "./live-gateway.ts";

export interface OpenClawBinary {
  /** Where PATH finds it. */
  path: string;
  /** After symlinks. */
  realPath: string;
  installDir?: string;
  version?: string;
}

export function openclawOnPath(pathValue: string | undefined): OpenClawBinary[] {
  const found: OpenClawBinary[] = [];
  const seen = new Set<string>();
  for (const dir of (pathValue ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "openclaw");
    if (seen.has(candidate)) continue;
    seen.add(candidate);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    const realPath = safeRealpath(candidate);
    const installDir = installDirOf(realPath);
    found.push({ path: candidate, realPath, installDir, version: installDir ? readManifest(installDir)?.version : undefined });
  }
  return found;
}

function safeRealpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * npm links bin/openclaw → lib/node_modules/openclaw/openclaw.mjs; a wrapper
 * script next to a prefix (Homebrew, nvm) has the package under ../lib.
 */
export function installDirOf(realPath: string): string | undefined {
  if (basename(realPath) === "openclaw.mjs" && readManifest(dirname(realPath))) return dirname(realPath);
  const beside = join(dirname(realPath), "..", "lib", "node_modules", "openclaw");
  if (readManifest(beside)) return safeRealpath(beside);
  const nodeModules = /^(.*\/node_modules)\/\.bin\/openclaw$/.exec(realPath);
  if (nodeModules && readManifest(join(nodeModules[1]!, "openclaw"))) return join(nodeModules[1]!, "openclaw");
  return undefined;
}

/** The install a service's program arguments run (node <install>/openclaw.mjs …, or a bin path). */
export function installOfProgram(argv: readonly string[]): { installDir?: string; missing?: string } {
  for (const arg of argv) {
    if (!arg.startsWith("/")) continue;
    if (/\/openclaw(\.mjs)?$/.test(arg) || /\/node_modules\/openclaw\//.test(arg)) {
      try {
        statSync(arg);
      } catch {
        return { missing: arg };
      }
      const fromPackage = /^(.*\/node_modules\/openclaw)\//.exec(arg);
      return { installDir: fromPackage ? fromPackage[1] : installDirOf(safeRealpath(arg)) };
    }
  }
  return {};
}
