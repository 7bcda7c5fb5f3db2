// Installs the pinned OpenClaw gateway the integration tests run against
// (test/openclaw). It lives in its own package because openclaw's preinstall
// refuses Node < 24.16: as a root devDependency it would run before the repo's
// own Node 24 (the `node` devDependency) is linked, under the machine's Node 20.
// Run from the root `prepare` script, when node_modules/.bin/node is Node 24.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL("../test/openclaw/", import.meta.url));
if (!existsSync(`${dir}package.json`)) process.exit(0); // installed as a package, not a checkout

const wanted = JSON.parse(readFileSync(`${dir}package.json`, "utf8")).devDependencies.openclaw as string;
const installedManifest = `${dir}node_modules/openclaw/package.json`;
const installed = existsSync(installedManifest) ? (JSON.parse(readFileSync(installedManifest, "utf8")).version as string) : undefined;
if (installed === wanted) {
  console.log(`test gateway: openclaw ${wanted} already installed`);
  process.exit(0);
}
console.log(`test gateway: installing openclaw ${wanted} into test/openclaw (about 30 s)…`);
execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir, stdio: "inherit" });
