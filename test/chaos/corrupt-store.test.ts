// A collector database damaged in the middle of the file (a bad sector, a
// torn copy): open and migrate succeed, the first reads do not. The operator
// must learn which file, and what to do, not just "malformed".
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SqliteStore } from "../../collector/state/sqlite-store.ts";
import { freePort } from "../helpers/ports.ts";
import { runClawfleet } from "../helpers/processes.ts";

const PAGE = 4096;

/** A store with 200 nodes and 1000 reports, written as the collector writes it. */
function writeStore(path: string): void {
  const store = new SqliteStore(path);
  store.fingerprintKey();
  for (let n = 0; n < 200; n++) {
    const nodeId = `node-${n}`;
    store.upsertNode({ nodeId, hostname: `host-${n}.example`, platform: "linux", agentVersion: "1.0.0", openclawVersion: "" }, Date.now(), 0);
    for (let seq = 1n; seq <= 5n; seq++) {
      const summary = `gateway listens on 127.0.0.1 (node ${n}, report ${seq}) `.repeat(4);
      store.applyReport(
        { nodeId, seq, observedAtMs: Date.now(), receivedAtMs: Date.now(), verdict: "ok", primaryIndex: -1, findings: [{ check: "gateway", layer: "gateway", status: "ok", code: "", summary, action: "", evidence: {} }], credentials: [], durationMs: 3, maySleep: false, lastWakeMs: 0, lastSleepMs: 0, openclawVersion: "" },
        [],
      );
    }
  }
  store.close();
}

/** Overwrites the middle half of the file, page-aligned, leaving the header page intact. */
function damageMiddle(path: string): void {
  const fd = openSync(path, "r+");
  const pages = Math.floor(fstatSync(fd).size / PAGE);
  const garbage = Buffer.alloc(PAGE, 0xa5);
  for (let page = Math.floor(pages / 4); page < Math.ceil((pages * 3) / 4); page++) writeSync(fd, garbage, 0, PAGE, page * PAGE);
  closeSync(fd);
}

describe("collector store damaged mid-file", () => {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-corrupt-store-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses to start, naming the database file and what to do", async () => {
    const db = join(dir, "collector.db");
    writeStore(db);
    damageMiddle(db);
    const result = await runClawfleet(["collector", "serve", "--insecure", "--grpc-listen", `127.0.0.1:${await freePort()}`, "--http-listen", `127.0.0.1:${await freePort()}`, "--db", db], {}, 20_000);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain(`${db}: cannot open the collector database: database disk image is malformed`);
    expect(result.stderr).toContain("move it aside to start with an empty store, or restore a backup");
    expect(result.stdout).not.toMatch(/collector ready/);
  });
});
