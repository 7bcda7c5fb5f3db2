// A second `openclaw` on PATH, laid out as `npm install -g` lays it out
// (PREFIX/bin/openclaw → ../lib/node_modules/openclaw/openclaw.mjs): the
// two-binaries drift operators hit after installing with another Node.
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Creates the install under `prefix`; returns its bin directory, to put on PATH. */
export function fakeGlobalInstall(prefix: string, version: string): string {
  const pkg = join(prefix, "lib", "node_modules", "openclaw");
  mkdirSync(pkg, { recursive: true });
  mkdirSync(join(prefix, "bin"));
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "openclaw", version }));
  writeFileSync(join(pkg, "openclaw.mjs"), "#!/usr/bin/env node\n", { mode: 0o755 });
  symlinkSync("../lib/node_modules/openclaw/openclaw.mjs", join(prefix, "bin", "openclaw"));
  return join(prefix, "bin");
}
