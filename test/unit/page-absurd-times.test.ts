// A store written before ingest validated times (or by a bug) may hold any
// integer: the pages must still render it, never answer 500.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import { afterAll, describe, expect, it } from "vitest";
import { SqliteStore } from "../../collector/state/sqlite-store.ts";
import { Fleet } from "../../collector/state/fleet.ts";
import { renderNodePage } from "../../collector/http/node-page.ts";
import { renderFleetPage } from "../../collector/http/fleet-page.ts";
import { createHttpServer } from "../../collector/http/http-server.ts";
import { passed } from "../../shared/finding.ts";

const ABSURD = [8.64e15 + 1, -(2 ** 63), 2 ** 63, -1];

describe("pages with absurd stored times", () => {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-absurd-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(ABSURD)("render a node whose stored wake, sleep, observed and clock times are %d", async (absurd) => {
    const path = join(dir, `${String(absurd).replace(/\W/g, "_")}.db`);
    const writing = new Fleet(new SqliteStore(path));
    writing.connect({ nodeId: "odd", hostname: "odd", platform: "linux", agentVersion: "t", openclawVersion: "" }, 1, "127.0.0.1:1", absurd, Date.now());
    writing.record({
      nodeId: "odd", seq: 1n, observedAtMs: absurd, receivedAtMs: Date.now(), verdict: "ok", primaryIndex: -1,
      findings: [passed("gateway", "gateway", "ready")], durationMs: 1, maySleep: true, lastWakeMs: absurd, lastSleepMs: absurd, openclawVersion: "", credentials: [],
    });
    writing.disconnect("odd", 1, Date.now());
    writing.store.close();

    // What the collector sees after a restart: the rows as stored.
    const fleet = new Fleet(new SqliteStore(path));
    const page = renderNodePage(fleet, "odd", new URLSearchParams(), 0)!;
    expect(page).toContain("<h1>odd");
    expect(page).toMatch(/Last wake<\/dt><dd><time datetime="(invalid time|[0-9-]+T)/);
    expect(renderFleetPage(fleet, new URLSearchParams(), 0)).toContain("odd");

    const server = createHttpServer(new Registry(), () => "", fleet);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/node/odd`);
      expect(response.status).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      fleet.store.close();
    }
  });
});
