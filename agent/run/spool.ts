// Reports the collector has not acknowledged yet, kept on disk so an agent that
// restarts while the collector is away still delivers them, in order. One file
// per report (binary clawfleet.v1.Report), written to a temporary name and
// renamed, so a crash never leaves half a report under a real name. Bounded: the
// oldest go first. A file that does not parse is set aside as `.corrupt`, named
// in the log, never deleted. The directory is read as hostile: only regular
// files are opened, never through a link, never blocking (a FIFO), and never
// more than one report's worth of bytes.
import { type Stats, closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { ReportSchema, type Report } from "../../shared/gen/clawfleet/v1/report_pb.ts";
import { absurdSeq } from "./sequence-file.ts";
import { writeFileAtomic } from "../../shared/atomic-file.ts";

export interface SpoolLimits {
  maxReports: number;
  maxBytes: number;
}

export const DEFAULT_SPOOL_LIMITS: SpoolLimits = { maxReports: 1000, maxBytes: 16 * 1024 * 1024 };

/** A report is a few KB; the collector refuses any message over 1 MiB (its MAX_MESSAGE_BYTES). */
export const MAX_ENTRY_BYTES = 1024 * 1024;

export interface SpoolProblem {
  path: string;
  message: string;
}

const NAME = /^(\d{20})\.report$/;
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

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

  /** Everything spooled, in seq order; unreadable entries are set aside and reported. */
  load(): { reports: Report[]; problems: SpoolProblem[] } {
    const reports: Report[] = [];
    const problems: SpoolProblem[] = [];
    const setAside = (path: string, why: string) => problems.push({ path, message: moveAside(path, why) });
    const scratch = Buffer.alloc(MAX_ENTRY_BYTES + 1);
    for (const name of readdirSync(this.dir).sort()) {
      const path = join(this.dir, name);
      const temporary = name.endsWith(".tmp");
      const match = NAME.exec(name);
      if (!temporary && !match) continue;
      let stat;
      try {
        stat = lstatSync(path);
      } catch {
        continue; // gone since the listing
      }
      if (!stat.isFile()) {
        setAside(path, `not a regular file (${kind(stat)})`);
        continue;
      }
      if (temporary) {
        // A write that never finished: its report was never acknowledged as sent.
        tryUnlink(path);
        continue;
      }
      const nameSeq = BigInt(match![1]!);
      if (absurdSeq(nameSeq)) {
        setAside(path, `seq ${nameSeq} is beyond any real sequence`);
        continue;
      }
      if (stat.size > MAX_ENTRY_BYTES) {
        setAside(path, `${stat.size} bytes, larger than any report (${MAX_ENTRY_BYTES})`);
        continue;
      }
      try {
        const bytes = readCapped(path, scratch);
        const report = fromBinary(ReportSchema, bytes);
        // Renumbering renames first and rewrites second: a crash between the two
        // leaves a report whose inner seq is above its name. The name is the truth.
        if (report.seq > nameSeq) {
          report.seq = nameSeq;
          try {
            this.write(report);
          } catch {
            // Repaired on a later load: the name stays the truth until then.
          }
        } else if (report.seq !== nameSeq) throw new Error(`holds seq ${report.seq}, not ${nameSeq}`);
        this.sizes.set(report.seq, bytes.length);
        reports.push(report);
      } catch (error) {
        setAside(path, `not a clawfleet report (${(error as Error).message})`);
      }
    }
    return { reports, problems };
  }

  /**
   * Writes a report; returns the seqs dropped (oldest first) to stay within the
   * limits. Throws (naming the file) when the disk refuses it, leaving nothing
   * half-written behind.
   */
  add(report: Report): bigint[] {
    const bytes = this.write(report);
    this.sizes.set(report.seq, bytes);
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

  /**
   * Gives a spooled report a new seq (`report` already carries it). Crash-safe:
   * the rename is atomic, and a crash before the rewrite is repaired by load().
   * Callers go in ascending order, so a new name never lands on a file not yet moved.
   */
  renumber(oldSeq: bigint, report: Report): void {
    if (this.sizes.has(oldSeq)) {
      renameSync(this.path(oldSeq), this.path(report.seq));
      this.sizes.delete(oldSeq);
    }
    this.sizes.set(report.seq, this.write(report));
  }

  /** The collector stored everything up to `seq`. */
  acknowledge(seq: bigint): void {
    for (const spooled of [...this.sizes.keys()]) if (spooled <= seq) this.remove(spooled);
  }

  private write(report: Report): number {
    const bytes = toBinary(ReportSchema, report);
    const path = this.path(report.seq);
    try {
      writeFileAtomic(path, bytes, 0o600);
    } catch (error) {
      throw new Error(`${path}: cannot spool report ${report.seq} (${(error as Error).message})`);
    }
    return bytes.length;
  }

  // A file that cannot be deleted is resent after a restart, and the collector
  // acknowledges it as a duplicate: never worth stopping the agent for.
  private remove(seq: bigint): void {
    this.sizes.delete(seq);
    tryUnlink(this.path(seq));
  }

  get size(): number {
    return this.sizes.size;
  }

  /** Bytes on disk, for tests and logs. */
  bytes(): number {
    return [...this.sizes.keys()].reduce((total, seq) => total + statSync(this.path(seq)).size, 0);
  }
}

/**
 * At most one byte more than the scratch buffer's cap, so a file that grew past
 * the cap after lstat is recognised without reading it whole.
 */
function readCapped(path: string, buffer: Buffer): Buffer {
  const cap = buffer.length - 1;
  const fd = openSync(path, READ_FLAGS);
  try {
    if (!fstatSync(fd).isFile()) throw new Error("not a regular file");
    let length = 0;
    for (let n; length < buffer.length && (n = readSync(fd, buffer, length, buffer.length - length, null)) > 0; ) length += n;
    if (length > cap) throw new Error(`larger than any report (${cap} bytes)`);
    return Buffer.from(buffer.subarray(0, length));
  } finally {
    closeSync(fd);
  }
}

function moveAside(path: string, why: string): string {
  try {
    renameSync(path, `${path}.corrupt`);
    return `${path}: ${why}; kept as ${path}.corrupt`;
  } catch (error) {
    return `${path}: ${why}; skipped (cannot move it aside: ${(error as Error).message})`;
  }
}

function kind(stat: Stats): string {
  if (stat.isDirectory()) return "a directory";
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isSymbolicLink()) return "a symbolic link";
  if (stat.isSocket()) return "a socket";
  return "a device";
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or not ours to delete: either way nothing to do
  }
}
