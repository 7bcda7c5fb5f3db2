// `npm run bench`: brings the Debian tools the benches drive, runs every bench
// module in sequence (each within its time budget), prints one table and
// writes the results as JSON to bench/results/latest.json (gitignored).
//   npm run bench [-- --quick]
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { ensureDebianTools } from "../scripts/ensure-debian-tools.ts";
import { postgresServerBinDir } from "../scripts/postgres-server-bin.ts";
import { benchTable, type BenchOptions, type BenchResult } from "./harness.ts";

ensureDebianTools(
  [
    { command: "prometheus", debianPackage: "prometheus" },
    { command: "prometheus-pushgateway", debianPackage: "prometheus-pushgateway" },
    { command: "prometheus-node-exporter", debianPackage: "prometheus-node-exporter" },
    { command: "prometheus-blackbox-exporter", debianPackage: "prometheus-blackbox-exporter" },
    { command: "initdb", debianPackage: "postgresql", installed: () => postgresServerBinDir() !== undefined },
  ],
  "npm run bench",
);

/** In run order; a module not written yet is reported as skipped. Budgets (seconds) unless the module exports its own. */
const MODULES: readonly { file: string; budgetSeconds: number }[] = [
  { file: "ingest.ts", budgetSeconds: 240 },
  { file: "scrape.ts", budgetSeconds: 150 },
  { file: "metrics-exposition.ts", budgetSeconds: 60 },
  { file: "agent-footprint.ts", budgetSeconds: 210 },
  { file: "time-to-signal.ts", budgetSeconds: 130 },
  { file: "store-growth.ts", budgetSeconds: 90 },
  { file: "pg-store.ts", budgetSeconds: 60 },
  { file: "shared-collectors.ts", budgetSeconds: 120 },
];

interface BenchModule {
  bench(options: BenchOptions): Promise<BenchResult>;
  budgetSeconds?: number;
}

const options: BenchOptions = { quick: process.argv.includes("--quick") };
const only = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const results: BenchResult[] = [];
const skipped: { name: string; why: string }[] = [];
const timings: Record<string, number> = {};
const machine = { cores: cpus().length, loadavgBefore: loadavg(), loadavgAfter: [] as number[] };
const started = performance.now();
// A bench cut off by its budget may still have work in flight (a gateway restarting, a probe) that fails
// later, outside any await: that is not news and must not end the run before the table is printed.
process.on("unhandledRejection", (error) => process.stdout.write(`  (a failure after its bench ended: ${(error as Error)?.message?.split("\n")[0] ?? String(error)})\n`));

for (const { file, budgetSeconds } of MODULES) {
  const name = file.replace(/\.ts$/, "");
  if (only.length > 0 && !only.includes(name)) continue;
  const path = fileURLToPath(new URL(file, import.meta.url));
  if (!existsSync(path)) {
    skipped.push({ name, why: `bench/${file} is not there yet` });
    process.stdout.write(`skipped ${name}: bench/${file} is not there yet\n`);
    continue;
  }
  const module = (await import(path)) as BenchModule;
  const budget = (module.budgetSeconds ?? budgetSeconds) * (options.quick ? 0.5 : 1);
  process.stdout.write(`running ${name} (budget ${budget} s${options.quick ? ", quick" : ""}; load average ${loadavg()[0]!.toFixed(2)})\n`);
  const benchStarted = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const running = module.bench(options);
  running.catch(() => {}); // once cut off by its budget, its later failures are not news
  try {
    const result = await Promise.race([
      running,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`over its ${budget} s budget`)), budget * 1000))),
    ]);
    results.push(result);
    for (const note of result.notes) process.stdout.write(`  ${name}: ${note}\n`);
  } catch (error) {
    skipped.push({ name, why: (error as Error).message });
    process.stdout.write(`FAILED ${name}: ${(error as Error).message}\n`);
    // A bench cut off by its budget leaves its servers and generators running: stop them before the next.
    const { stopAll } = await import("../test/helpers/processes.ts");
    const { killGenerators } = await import("./load/child-ipc.ts");
    killGenerators();
    await stopAll();
  } finally {
    clearTimeout(timer);
    timings[name] = (performance.now() - benchStarted) / 1000;
    process.stdout.write(`  ${name}: ${timings[name].toFixed(0)} s\n`);
  }
}

machine.loadavgAfter = loadavg();
const totalSeconds = (performance.now() - started) / 1000;
process.stdout.write("\n" + benchTable(results));
for (const s of skipped) process.stdout.write(`skipped ${s.name}: ${s.why}\n`);
process.stdout.write(`\n${results.length} benches in ${totalSeconds.toFixed(0)} s on ${machine.cores} cores; load average before ${machine.loadavgBefore.map((l) => l.toFixed(2)).join(" ")}, after ${machine.loadavgAfter.map((l) => l.toFixed(2)).join(" ")}\n`);
const out = fileURLToPath(new URL("results/latest.json", import.meta.url));
mkdirSync(fileURLToPath(new URL("results/", import.meta.url)), { recursive: true });
writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), quick: options.quick, totalSeconds, timings, machine, results, skipped }, null, 2) + "\n");
process.stdout.write(`results: ${out}\n`);
process.exit(skipped.some((s) => !s.why.endsWith("not there yet")) ? 1 : 0);
