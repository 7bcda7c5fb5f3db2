// What every benchmark under bench/ returns and how `npm run bench` prints it:
// one row per measured quantity, ours beside the real peer measured in the
// same run, and the ratio oriented so that > 1 always means "clawfleet is
// better". Each bench file also runs on its own (`npx node bench/<name>.ts`).
export interface BenchRow {
  /** What is measured, with its setting: "ingest, 10k streams". */
  what: string;
  unit: string;
  ours: number;
  /** The peer's figure for the same work in the same run; absent when there is no peer for this row. */
  peer?: number;
  peerName?: string;
  /** Whether a larger number is better (throughput) or a smaller one (latency, memory, CPU). */
  better: "higher" | "lower";
  /** A goal from an issue, in the row's unit, when there is one. */
  goal?: number;
}

export interface BenchResult {
  name: string;
  rows: BenchRow[];
  /** What bounds the figures, how the machine was, anything a reader must know to trust them. */
  notes: string[];
}

export interface BenchOptions {
  /** Smaller sizes and shorter windows: for a smoke run, not for numbers. */
  quick: boolean;
}

/** > 1 means clawfleet is better, whichever direction "better" is for the row. */
export function advantage(row: BenchRow): number | undefined {
  if (row.peer === undefined || row.peer === 0 || row.ours === 0) return undefined;
  return row.better === "higher" ? row.ours / row.peer : row.peer / row.ours;
}

function meetsGoal(row: BenchRow): boolean | undefined {
  if (row.goal === undefined) return undefined;
  return row.better === "higher" ? row.ours >= row.goal : row.ours <= row.goal;
}

const fmt = (n: number | undefined) => (n === undefined ? "-" : Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));

/** A fixed-width table: what, ours, peer, advantage, goal. */
export function benchTable(results: readonly BenchResult[]): string {
  const header = ["BENCH", "WHAT", "UNIT", "CLAWFLEET", "PEER", "PEER NAME", "ADVANTAGE", "GOAL"];
  const rows = results.flatMap((r) =>
    r.rows.map((row) => {
      const goal = meetsGoal(row);
      const adv = advantage(row);
      return [r.name, row.what, row.unit, fmt(row.ours), fmt(row.peer), row.peerName ?? "-", adv === undefined ? "-" : `${adv.toFixed(2)}x`, goal === undefined ? "-" : `${goal ? "met" : "MISSED"} (${row.better === "higher" ? ">=" : "<="} ${fmt(row.goal)})`];
    }),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/** Runs a bench file on its own: prints its table and notes. */
export async function runStandalone(name: string, bench: (options: BenchOptions) => Promise<BenchResult>): Promise<void> {
  const result = await bench({ quick: process.argv.includes("--quick") });
  process.stdout.write(benchTable([result]));
  for (const note of result.notes) process.stdout.write(`  ${name}: ${note}\n`);
}

/** Median of a non-empty list. */
export const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The p-th percentile (0-100) of a non-empty list, nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** CPU seconds (user + system) a process has used so far, from /proc: for processes the bench did not start itself too. */
export async function processCpuSeconds(pid: number): Promise<number> {
  const { readFileSync } = await import("node:fs");
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15 of stat)
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** Resident set size of a process in bytes, from /proc. */
export async function processRssBytes(pid: number): Promise<number> {
  const { readFileSync } = await import("node:fs");
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return rss ? Number(rss[1]) * 1024 : 0;
}
