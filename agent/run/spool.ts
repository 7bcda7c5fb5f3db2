// Reports the collector has not acknowledged yet, kept on disk so an agent that
// restarts while the collector is away still delivers them, in order. One file
// per report (binary clawfleet.v1.Report), written to a temporary name and
// renamed, so a crash never leaves half a report under a real name. Bounded: the
// oldest go first. A file that does not parse is set aside as `.corrupt`, named
// in the log, never deleted.
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { ReportSchema, type Report } from "../../shared/gen/clawfleet/v1/report_pb.ts";

export interface SpoolLimits {
  maxReports: number;
  maxBytes: number;
}

export const DEFAULT_SPOOL_LIMITS: SpoolLimits = { maxReports: 1000, maxBytes: 16 * 1024 * 1024 };

export interface SpoolProblem {
  path: string;
  message: string;
}

const NAME = /^(\d{20})\.report$/;

export class Spool {
  readonly dir: string;
  private readonly limits: SpoolLimits;
  private readonly sizes = new Map<bigint, number>();

  constructor(dir: string, limits: SpoolLimits = DEFAULT_SPOOL_LIMITS) {
    this.dir = dir;
    this.limits = limits;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private path(seq: bigint): string {
    return join(this.dir, `${seq.toString().padStart(20, "0")}.report`);
  }

  /** Everything spooled, in seq order; unreadable files are set aside and reported. */
  load(): { reports: Report[]; problems: SpoolProblem[] } {
    const reports: Report[] = [];
    const problems: SpoolProblem[] = [];
    for (const name of readdirSync(this.dir).sort()) {
      const path = join(this.dir, name);
      if (name.endsWith(".tmp")) {
        unlinkSync(path); // a write that never finished: its report was never acknowledged as sent
        continue;
      }
      const match = NAME.exec(name);
      if (!match) continue;
      try {
        const bytes = readFileSync(path);
        const report = fromBinary(ReportSchema, bytes);
        if (report.seq !== BigInt(match[1]!)) throw new Error(`holds seq ${report.seq}, not ${BigInt(match[1]!)}`);
        this.sizes.set(report.seq, bytes.length);
        reports.push(report);
      } catch (error) {
        renameSync(path, `${path}.corrupt`);
        problems.push({ path, message: `${path}: not a clawfleet report (${(error as Error).message}); kept as ${path}.corrupt` });
      }
    }
    return { reports, problems };
  }

  /** Writes a report; returns the seqs dropped (oldest first) to stay within the limits. */
  add(report: Report): bigint[] {
    const bytes = toBinary(ReportSchema, report);
    const path = this.path(report.seq);
    writeFileSync(`${path}.tmp`, bytes, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
    this.sizes.set(report.seq, bytes.length);
    const dropped: bigint[] = [];
    let total = [...this.sizes.values()].reduce((a, b) => a + b, 0);
    for (const seq of [...this.sizes.keys()].sort((a, b) => (a < b ? -1 : 1))) {
      if (this.sizes.size <= this.limits.maxReports && total <= this.limits.maxBytes) break;
      if (seq === report.seq) break; // never drop the report just made
      total -= this.sizes.get(seq)!;
      this.remove(seq);
      dropped.push(seq);
    }
    return dropped;
  }

  /** The collector stored everything up to `seq`. */
  acknowledge(seq: bigint): void {
    for (const spooled of [...this.sizes.keys()]) if (spooled <= seq) this.remove(spooled);
  }

  private remove(seq: bigint): void {
    this.sizes.delete(seq);
    try {
      unlinkSync(this.path(seq));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }

  get size(): number {
    return this.sizes.size;
  }

  /** Bytes on disk, for tests and logs. */
  bytes(): number {
    return [...this.sizes.keys()].reduce((total, seq) => total + statSync(this.path(seq)).size, 0);
  }
}
