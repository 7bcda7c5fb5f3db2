// The per-node report sequence, kept on disk so it keeps rising across agent
// restarts (the collector de-duplicates by node and seq). A file that cannot
// be a sequence (not digits, empty, a directory, absurdly large) is set aside
// as `.corrupt`, never trusted and never a reason to refuse to start: the
// agent then waits for the collector's welcome to know where to continue.
import { lstatSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { dirname } from "node:path";
import { MAX_SEQ, SEQ_WINDOW } from "../../shared/report-codec.ts";
import { writeFileAtomic } from "../../shared/atomic-file.ts";

/**
 * No honest sequence gets near MAX_SEQ (a report a second for 292 billion
 * years); one that does was written by a hostile collector or a bad disk, and
 * would overflow the collector's store within a window of reports.
 */
export function absurdSeq(seq: bigint): boolean {
  return seq >= MAX_SEQ - SEQ_WINDOW;
}

const DIGITS = /^\s*(\d+)\s*$/;
/** A sequence file is a number and a newline; anything much longer is not one. */
const MAX_FILE_BYTES = 64;

export class SequenceFile {
  private seq: bigint;
  private readonly path: string;
  /** Why the file on disk was set aside at start, for the caller to log. */
  readonly problem?: string;
  private recovering: boolean;

  constructor(path: string) {
    this.path = path;
    const read = SequenceFile.read(path);
    this.seq = read.seq;
    this.problem = read.problem;
    this.recovering = read.problem !== undefined;
  }

  private static read(path: string): { seq: bigint; problem?: string } {
    let text: string;
    try {
      const stat = lstatSync(path);
      if (!stat.isFile()) return SequenceFile.setAside(path, "not a regular file");
      if (stat.size > MAX_FILE_BYTES) return SequenceFile.setAside(path, `${stat.size} bytes, not a sequence number`);
      text = readFileSync(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { seq: 0n };
      return SequenceFile.setAside(path, (error as Error).message);
    }
    const match = DIGITS.exec(text);
    if (!match) return SequenceFile.setAside(path, text.trim() === "" ? "empty" : "not digits");
    const seq = BigInt(match[1]!);
    if (absurdSeq(seq)) return SequenceFile.setAside(path, `${seq} is beyond any real sequence (limit ${MAX_SEQ - SEQ_WINDOW})`);
    return { seq };
  }

  private static setAside(path: string, why: string): { seq: bigint; problem: string } {
    const aside = `${path}.corrupt`;
    try {
      renameSync(path, aside);
      return { seq: 0n, problem: `${path}: ${why}; kept as ${aside}, numbering continues from the collector's welcome` };
    } catch (error) {
      return { seq: 0n, problem: `${path}: ${why}, and it cannot be moved aside (${(error as Error).message}); numbering continues from the collector's welcome` };
    }
  }

  /**
   * True until the collector said where this node's numbering stands, when
   * the file was unusable: reports made before would reuse stored seqs.
   */
  get awaitingCollector(): boolean {
    return this.recovering;
  }

  /** The last seq handed out. */
  get current(): bigint {
    return this.seq;
  }

  /**
   * Continues from `seq`, up (a reinstalled agent lost its count) or down (the
   * collector holds far less than this agent counted: its store was reset, or
   * this file was poisoned). The collector link decides which (welcome-seq.ts).
   */
  restartAt(seq: bigint): void {
    if (absurdSeq(seq)) throw new Error(`${this.path}: refusing to continue at ${seq}, beyond any real sequence`);
    this.recovering = false;
    this.write((this.seq = seq));
  }

  /** The next sequence number, persisted before it is used. */
  next(): bigint {
    if (absurdSeq(this.seq + 1n)) throw new Error(`${this.path}: sequence ${this.seq} has reached its limit; the collector's welcome renumbers it`);
    this.seq += 1n;
    this.write(this.seq);
    return this.seq;
  }

  private write(seq: bigint): void {
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileAtomic(this.path, `${seq}\n`, 0o600);
  }
}
