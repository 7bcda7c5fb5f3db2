// The per-node report sequence, kept on disk so it keeps rising across agent
// restarts (the collector de-duplicates by node and seq).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export class SequenceFile {
  private seq: bigint;
  private readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.seq = SequenceFile.read(path);
  }

  private static read(path: string): bigint {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0n;
      throw new Error(`${path}: cannot read the agent's sequence file (${(error as Error).message})`);
    }
    const match = /^\s*(\d{1,19})\s*$/.exec(text);
    if (!match) throw new Error(`${path}: not a sequence number (expected digits only); delete the file to restart numbering`);
    return BigInt(match[1]!);
  }

  /** Raises the floor, e.g. to what the collector already holds for this node. */
  atLeast(seq: bigint): void {
    if (seq > this.seq) this.write((this.seq = seq));
  }

  /** The next sequence number, persisted before it is used. */
  next(): bigint {
    this.seq += 1n;
    this.write(this.seq);
    return this.seq;
  }

  private write(seq: bigint): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, `${seq}\n`, { mode: 0o600 });
    renameSync(temporary, this.path);
  }
}
