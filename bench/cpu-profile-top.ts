// Where a V8 CPU profile (node --cpu-prof) spends its time: the top functions
// by self time and the top source files, as shares of all samples. For the
// collector under ingest load: BENCH_CPU_PROF=<dir> node bench/ingest.ts, then
//   node bench/cpu-profile-top.ts <dir>/<file>.cpuprofile [top N]
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write("usage: node bench/cpu-profile-top.ts <file.cpuprofile> [top N]\n");
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: ProfileNode[]; samples: number[]; startTime: number; endTime: number };
const hits = new Map<number, number>();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const total = profile.samples.length;
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const node of profile.nodes) {
  const n = hits.get(node.id) ?? 0;
  if (n === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^file:\/\/.*?\/(node_modules|collector|shared|cli|agent)\//, "$1/").replace(/^node:/, "node:");
  const fn = `${functionName || "(anonymous)"} ${where || "(native)"}:${lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + n);
  const fileKey = where || functionName;
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + n);
}
const show = (title: string, m: Map<string, number>) => {
  process.stdout.write(`${title}\n`);
  for (const [k, n] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${((100 * n) / total).toFixed(1).padStart(5)}%  ${k}\n`);
};
process.stdout.write(`${total} samples over ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s\n`);
show("self time by function:", byFunction);
show("self time by file:", byFile);
