#!/usr/bin/env node
// Launcher: plain JavaScript so that an old Node gets a clear message instead of
// a syntax error. Runs the TypeScript sources directly in a checkout (Node 24
// strips types), the compiled package (dist/) when installed from a tarball,
// which ships no sources: a stale dist/ in a checkout is never run.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 24 || (major === 24 && minor < 16)) {
  process.stderr.write(
    `clawfleet needs Node >= 24.16, this is ${process.versions.node} (${process.execPath}).\n` +
      "In a checkout, run it through npm so the repo's own Node 24 is used: `npx clawfleet …` or `npm start`.\n",
  );
  process.exit(3);
}
const { existsSync } = await import("node:fs");
const sources = new URL("../cli/main.ts", import.meta.url);
const entry = existsSync(sources) ? sources : new URL("../dist/cli/main.js", import.meta.url);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
