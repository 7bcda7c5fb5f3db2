import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_ENTRY_BYTES, Spool } from "../../agent/run/spool.ts";
import { MAX_SEQ } from "../../shared/report-codec.ts";
import { ReportSchema } from "../../shared/gen/clawfleet/v1/report_pb.ts";

const report = (seq: bigint, summary = "x") => create(ReportSchema, { seq, verdict: "ok", primaryIndex: -1, findings: [{ check: "gateway", layer: "gateway", status: "ok", summary }] });

describe("report spool", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "clawfleet-spool-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps unacknowledged reports across a restart, in seq order, and forgets acknowledged ones", () => {
    const first = new Spool(join(dir, "s"));
    for (const seq of [3n, 1n, 2n]) first.add(report(seq));
    first.acknowledge(1n);
    const { reports, problems } = new Spool(join(dir, "s")).load();
    expect(problems).toEqual([]);
    expect(reports.map((r) => r.seq)).toEqual([2n, 3n]);
    expect(reports[0]!.findings[0]!.summary).toBe("x");
  });

  it("drops the oldest reports beyond its limits, never the one just made", () => {
    const spool = new Spool(join(dir, "s"), { maxReports: 3, maxBytes: 1_000_000 });
    const dropped = [1n, 2n, 3n, 4n, 5n].flatMap((seq) => spool.add(report(seq)));
    expect(dropped).toEqual([1n, 2n]);
    expect(spool.size).toBe(3);
    const tiny = new Spool(join(dir, "t"), { maxReports: 100, maxBytes: 10 });
    expect(tiny.add(report(1n, "a long summary"))).toEqual([]); // alone over the byte limit: kept
    expect(tiny.add(report(2n, "a long summary"))).toEqual([1n]);
  });

  it("sets a corrupt file aside, names it, and still loads the rest; half-written files are removed", () => {
    const spool = new Spool(join(dir, "s"));
    spool.add(report(1n));
    spool.add(report(2n));
    const corrupt = join(dir, "s", `${"3".padStart(20, "0")}.report`);
    writeFileSync(corrupt, Buffer.from([0xff, 0xff, 0xff, 0x07, 0x01]));
    writeFileSync(join(dir, "s", `${"4".padStart(20, "0")}.report.tmp`), "partial");
    const { reports, problems } = new Spool(join(dir, "s")).load();
    expect(reports.map((r) => r.seq)).toEqual([1n, 2n]);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain(`${corrupt}: not a clawfleet report`);
    expect(existsSync(`${corrupt}.corrupt`)).toBe(true); // kept for a person to look at
    expect(readdirSync(join(dir, "s")).some((f) => f.endsWith(".tmp"))).toBe(false);
  });
});

describe("report spool, hostile entries", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "clawfleet-spool-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const entry = (seq: number, suffix = "") => join(dir, "s", `${String(seq).padStart(20, "0")}.report${suffix}`);

  it("sets aside a directory, a FIFO, a symbolic link and a 300 MB file without blocking or reading them, and loads the rest", () => {
    const spool = new Spool(join(dir, "s"));
    spool.add(report(1n));
    spool.add(report(5n));
    mkdirSync(entry(2));
    execFileSync("mkfifo", [entry(3)]); // opening it for reading would block until a writer comes
    symlinkSync(entry(1), entry(4));
    writeFileSync(entry(6), "");
    truncateSync(entry(6), 300 * 1024 * 1024); // sparse: 300 MB to read, nothing on disk
    mkdirSync(entry(7, ".tmp")); // unlink() of a directory throws
    const started = performance.now();
    const { reports, problems } = new Spool(join(dir, "s")).load();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(reports.map((r) => r.seq)).toEqual([1n, 5n]);
    const messages = problems.map((p) => p.message).join("\n");
    expect(messages).toContain(`${entry(2)}: not a regular file (a directory)`);
    expect(messages).toContain(`${entry(3)}: not a regular file (a FIFO)`);
    expect(messages).toContain(`${entry(4)}: not a regular file (a symbolic link)`);
    expect(messages).toContain(`${entry(6)}: ${300 * 1024 * 1024} bytes, larger than any report (${MAX_ENTRY_BYTES})`);
    expect(messages).toContain(`${entry(7, ".tmp")}: not a regular file (a directory)`);
    expect(problems).toHaveLength(5);
    for (const path of [entry(2), entry(3), entry(4), entry(6), entry(7, ".tmp")]) expect(() => lstatSync(`${path}.corrupt`)).not.toThrow();
  });

  it("refuses an entry one byte over the cap, and a name beyond any real sequence", () => {
    mkdirSync(join(dir, "s"));
    writeFileSync(entry(1), Buffer.alloc(MAX_ENTRY_BYTES + 1, 0));
    writeFileSync(join(dir, "s", `${String(MAX_SEQ).padStart(20, "0")}.report`), toBinary(ReportSchema, report(MAX_SEQ)));
    const { reports, problems } = new Spool(join(dir, "s")).load();
    expect(reports).toEqual([]);
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringContaining(`${MAX_ENTRY_BYTES + 1} bytes, larger than any report`),
      expect.stringContaining(`seq ${MAX_SEQ} is beyond any real sequence`),
    ]);
  });

  it("renumbers spooled reports, and a crash between a rename and its rewrite loses nothing", () => {
    const spool = new Spool(join(dir, "s"));
    for (const seq of [50_001n, 50_002n, 50_003n]) spool.add(report(seq, `was ${seq}`));
    const moved = report(8n, "was 50001");
    spool.renumber(50_001n, moved);
    // The crash: 50002 renamed to 9, its content still saying 50002.
    renameSync(entry(50_002), entry(9));
    const { reports, problems } = new Spool(join(dir, "s")).load();
    expect(problems).toEqual([]);
    expect(reports.map((r) => [r.seq, r.findings[0]!.summary])).toEqual([
      [8n, "was 50001"],
      [9n, "was 50002"],
      [50_003n, "was 50003"],
    ]);
    // Repaired on disk too: the next load reads seq 9 inside.
    expect(fromBinary(ReportSchema, readFileSync(entry(9))).seq).toBe(9n);
    expect(readdirSync(join(dir, "s")).sort()).toEqual([entry(8), entry(9), entry(50_003)].map((p) => p.slice(p.lastIndexOf("/") + 1)));
  });

  it("still refuses a report whose inner seq is below its name", () => {
    mkdirSync(join(dir, "s"));
    writeFileSync(entry(9), toBinary(ReportSchema, report(3n)));
    const { reports, problems } = new Spool(join(dir, "s")).load();
    expect(reports).toEqual([]);
    expect(problems[0]!.message).toContain("holds seq 3, not 9");
  });

  it("throws, naming the file, when the disk refuses a report, and leaves no partial file", () => {
    const spool = new Spool(join(dir, "s"));
    // Tests run as root, which ignores permission bits: a directory in the temporary file's place makes the write fail.
    mkdirSync(`${entry(1)}.tmp`);
    expect(() => spool.add(report(1n))).toThrow(new RegExp(`${entry(1)}: cannot spool report 1`));
    expect(existsSync(entry(1))).toBe(false);
    expect(spool.size).toBe(0);
  });
});
