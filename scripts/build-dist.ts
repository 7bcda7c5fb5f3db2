// Compiles the runtime sources to dist/ for the npm package (`prepack`).
// Development runs the TypeScript directly; an installed package cannot,
// because Node refuses to strip types under node_modules
// (ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING). bin/clawfleet.js runs
// dist/cli/main.js when it exists.
//
//   node scripts/build-dist.ts           build dist/ (staged, then swapped in whole)
//   node scripts/build-dist.ts --clean   remove dist/ (postpack: a checkout runs its sources again)
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
/** The directories tsconfig.build.json compiles; their non-TypeScript files (advisories.json) are runtime data too. */
const SOURCE_DIRS = ["agent", "collector", "shared", "cli"];

if (process.argv.includes("--clean")) {
  rmSync(dist, { recursive: true, force: true });
  process.exit(0);
}

// Built beside dist/ and renamed over it: a test or a launcher running at the
// same time never sees a half-written dist/.
const staging = join(root, `dist.tmp-${process.pid}`);
rmSync(staging, { recursive: true, force: true });
try {
  const tsc = join(createRequire(import.meta.url).resolve("typescript/package.json"), "..", "bin", "tsc");
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json"), "--outDir", staging], { cwd: root, stdio: "inherit" });

  let assets = 0;
  for (const dir of SOURCE_DIRS) {
    for (const file of walk(join(root, dir))) {
      if (file.endsWith(".ts")) continue;
      cpSync(file, join(staging, relative(root, file)));
      assets++;
    }
  }

  // A `.ts` specifier left in the output would fail only when that module loads, on an operator's host.
  const leftovers: string[] = [];
  const js = walk(staging).filter((f) => f.endsWith(".js"));
  for (const file of js) {
    const text = readFileSync(file, "utf8");
    if (/(?:from\s*|import\s*\(\s*|import\s+)["']\.{1,2}\/[^"']*\.ts["']/.test(text)) leftovers.push(relative(staging, file));
  }
  if (leftovers.length > 0) throw new Error(`.ts import specifiers survived in: ${leftovers.join(", ")}`);

  // Load every command's module graph from the output with type stripping off:
  // a missing file or a .ts import fails here, not on a Mac mini.
  const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
  const smoke = `
    const { COMMANDS } = await import(${JSON.stringify(pathToFileURL(join(staging, "cli", "commands.js")).href)});
    for (const entry of COMMANDS) await entry.load();
    const { AGENT_VERSION } = await import(${JSON.stringify(pathToFileURL(join(staging, "shared", "version.js")).href)});
    process.stdout.write(COMMANDS.length + " " + AGENT_VERSION);`;
  const out = execFileSync(process.execPath, ["--no-experimental-strip-types", "--input-type=module", "-e", smoke], { cwd: root, encoding: "utf8" });
  const [commands, builtVersion] = out.trim().split(" ");
  if (builtVersion !== version) throw new Error(`compiled package reports version ${builtVersion}, package.json says ${version}`);

  rmSync(dist, { recursive: true, force: true });
  renameSync(staging, dist);
  const bytes = walk(dist).reduce((sum, f) => sum + statSync(f).size, 0);
  process.stdout.write(`dist/: ${js.length} modules, ${assets} data files, ${(bytes / 1024).toFixed(0)} KiB; ${commands} commands load without type stripping (clawfleet ${version})\n`);
} catch (error) {
  rmSync(staging, { recursive: true, force: true });
  process.stderr.write(`build-dist: ${(error as Error).message}\n`);
  process.exit(1);
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path) : entry.isFile() ? [path] : [];
  });
}
