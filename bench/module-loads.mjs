// Which modules a clawfleet process loads, and how much source each package
// brings: a module-load hook for finding where start-up memory and time go.
// Plain JavaScript, so it measures the compiled package without turning type
// stripping on.
//   MODULE_LOADS_OUT=/tmp/loads.json node --import ./bench/module-loads.mjs bin/clawfleet.js agent check
// Writes { modules: [{ url, bytes, atMs }], byPackage: { name: { modules, bytes } } } at exit
// (atMs: when the module was loaded, since the hook was registered).
import { registerHooks } from "node:module";
import { writeFileSync } from "node:fs";

const out = process.env.MODULE_LOADS_OUT;
const started = performance.now();
const modules = [];

registerHooks({
  load(url, context, nextLoad) {
    const result = nextLoad(url, context);
    const bytes = typeof result.source === "string" ? Buffer.byteLength(result.source) : (result.source?.byteLength ?? 0);
    modules.push({ url, bytes, atMs: Math.round(performance.now() - started) });
    return result;
  },
});

/** "@grpc/grpc-js" for a file under node_modules, "clawfleet:agent" for our own, "node:" for builtins. */
function packageOf(url) {
  if (url.startsWith("node:")) return "node:";
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (match) return match[1];
  const own = /\/(dist\/)?(agent|collector|shared|cli|bin)\//.exec(url);
  return own ? `clawfleet:${own[2]}` : url;
}

process.on("exit", () => {
  if (!out) return;
  const byPackage = {};
  for (const m of modules) {
    const p = (byPackage[packageOf(m.url)] ??= { modules: 0, bytes: 0 });
    p.modules++;
    p.bytes += m.bytes;
  }
  writeFileSync(out, JSON.stringify({ modules, byPackage }, null, 2));
});
