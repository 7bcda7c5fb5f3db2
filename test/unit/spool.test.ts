import { create } from "@bufbuild/protobuf";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Spool } from "../../agent/run/spool.ts";
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
