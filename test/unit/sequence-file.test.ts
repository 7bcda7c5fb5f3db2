import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SequenceFile } from "../../agent/run/sequence-file.ts";
import { MAX_SEQ, SEQ_WINDOW } from "../../shared/report-codec.ts";

describe("sequence file", () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-seq-"));
    path = join(dir, "node.seq");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps rising across restarts, persisted before use", () => {
    const first = new SequenceFile(path);
    expect([first.next(), first.next()]).toEqual([1n, 2n]);
    const second = new SequenceFile(path);
    expect(second.problem).toBeUndefined();
    expect(second.awaitingCollector).toBe(false);
    expect(second.next()).toBe(3n);
    expect(readFileSync(path, "utf8")).toBe("3\n");
  });

  const unusable: [string, () => void, RegExp][] = [
    ["not digits", () => writeFileSync(path, "12abc\n"), /not digits/],
    ["empty", () => writeFileSync(path, ""), /empty/],
    ["a directory", () => mkdirSync(path), /not a regular file/],
    ["2^64-1", () => writeFileSync(path, `${2n ** 64n - 1n}\n`), /beyond any real sequence/],
    ["2^64 (what the old agent wrote after adopting a welcome of 2^64-1)", () => writeFileSync(path, `${2n ** 64n}\n`), /beyond any real sequence/],
    ["2^63-1 (MAX_SEQ)", () => writeFileSync(path, `${MAX_SEQ}\n`), /beyond any real sequence/],
    ["just inside the last window", () => writeFileSync(path, `${MAX_SEQ - SEQ_WINDOW}\n`), /beyond any real sequence/],
    ["a megabyte of digits", () => writeFileSync(path, "9".repeat(1 << 20)), /bytes, not a sequence number/],
  ];
  for (const [what, make, why] of unusable) {
    it(`sets aside a file that is ${what}, and waits for the collector to number again`, () => {
      make();
      const sequence = new SequenceFile(path);
      expect(sequence.problem).toMatch(why);
      expect(sequence.problem).toContain(`${path}: `);
      expect(sequence.problem).toContain(`kept as ${path}.corrupt`);
      expect(lstatSync(`${path}.corrupt`)).toBeTruthy();
      expect(existsSync(path)).toBe(false);
      expect(sequence.awaitingCollector).toBe(true);
      sequence.restartAt(41n);
      expect(sequence.awaitingCollector).toBe(false);
      expect(sequence.next()).toBe(42n);
      expect(new SequenceFile(path).current).toBe(42n);
    });
  }

  it("accepts the largest sequence outside the last window", () => {
    writeFileSync(path, `${MAX_SEQ - SEQ_WINDOW - 1n}\n`);
    const sequence = new SequenceFile(path);
    expect(sequence.problem).toBeUndefined();
    expect(sequence.current).toBe(MAX_SEQ - SEQ_WINDOW - 1n);
    // The next one would be inside the last window: refused, nothing persisted.
    expect(() => sequence.next()).toThrow(/reached its limit/);
    expect(readFileSync(path, "utf8").trim()).toBe(String(MAX_SEQ - SEQ_WINDOW - 1n));
  });

  it("never continues at an absurd number", () => {
    const sequence = new SequenceFile(path);
    expect(() => sequence.restartAt(MAX_SEQ)).toThrow(/beyond any real sequence/);
    expect(existsSync(path)).toBe(false);
  });
});
