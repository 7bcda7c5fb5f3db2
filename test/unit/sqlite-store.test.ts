import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { problem } from "../../shared/finding.ts";
import { SqliteStore, StoreError } from "../../collector/state/sqlite-store.ts";
import { Fleet } from "../../collector/state/fleet.ts";
import type { StoredReport } from "../../collector/state/store.ts";

const identity = { nodeId: "mini-01", hostname: "mini-01.local", platform: "darwin", agentVersion: "0.1.0", openclawVersion: "2026.9.6" };
const report = (seq: bigint, verdict: StoredReport["verdict"] = "ok"): StoredReport => ({
  nodeId: "mini-01", seq, observedAtMs: 1000 * Number(seq), receivedAtMs: 1000 * Number(seq), verdict, primaryIndex: verdict === "ok" ? -1 : 0,
  findings: verdict === "ok" ? [] : [problem("session", "token_mismatch", "rejected", { fingerprint: "hmac:abcd" })], durationMs: 12, maySleep: false, lastWakeMs: 0,
});

describe("SQLite store", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "clawfleet-store-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("de-duplicates by (node, seq) and keeps the newest report as current when older ones replay", () => {
    const store = new SqliteStore(join(dir, "c.db"));
    const fleet = new Fleet(store);
    expect(fleet.connect(identity, 1)).toBe(0n);
    expect(fleet.record(report(5n, "fail"))).toBe("stored");
    expect(fleet.record(report(5n, "fail"))).toBe("duplicate");
    expect(fleet.record(report(3n, "ok"))).toBe("stored"); // a replayed older report: history only
    const [view] = fleet.list();
    expect(view!.lastSeq).toBe(5n);
    expect(view!.current?.verdict).toBe("fail");
    store.close();

    const reopened = new SqliteStore(join(dir, "c.db"));
    const [row] = reopened.listNodes();
    expect(row).toMatchObject({ nodeId: "mini-01", lastSeq: 5n, current: { seq: 5n, verdict: "fail" } });
    expect(row!.current!.findings[0]).toMatchObject({ code: "token_mismatch", evidence: { fingerprint: "hmac:abcd" } });
    expect(reopened.upsertNode(identity, 2)).toBe(5n);
    reopened.close();
  });

  it("keeps one fingerprint key for the fleet across restarts", () => {
    const first = new SqliteStore(join(dir, "k.db"));
    const key = Buffer.from(first.fingerprintKey());
    first.close();
    const second = new SqliteStore(join(dir, "k.db"));
    expect(key).toHaveLength(32);
    expect(Buffer.from(second.fingerprintKey())).toEqual(key);
    second.close();
  });

  it("refuses a file that is not a database, naming it, without overwriting it", () => {
    const path = join(dir, "corrupt.db");
    writeFileSync(path, "this is not sqlite ".repeat(300));
    expect(() => new SqliteStore(path)).toThrow(StoreError);
    expect(() => new SqliteStore(path)).toThrow(new RegExp(`${path}: cannot open the collector database`));
  });
});
