// The fleet page's "Recent changes" reads the changes of the nodes it shows,
// however many newer events of other nodes (or connects) the log holds: it
// once read the newest 500 rows and filtered them, and showed nothing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderFleetPage } from "../../collector/http/fleet-page.ts";
import { Fleet } from "../../collector/state/fleet.ts";
import { SqliteStore } from "../../collector/state/sqlite-store.ts";
import type { EventRow } from "../../collector/state/store.ts";

const recentChanges = (page: string) => page.slice(page.indexOf("<h2>Recent changes</h2>"));

describe("fleet page recent changes", () => {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-recent-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("shows a filtered node's change under 600 newer events of other nodes, and a change under 600 newer connects", () => {
    const store = new SqliteStore(join(dir, "recent.db"));
    const now = Date.now();
    const identity = (nodeId: string) => ({ nodeId, hostname: nodeId, platform: "darwin", agentVersion: "0.1.0", openclawVersion: "2026.9.6" });
    for (const nodeId of ["quiet-01", "busy-01"]) store.upsertNode(identity(nodeId), now - 3 * 3_600_000, 0);
    const change = (nodeId: string, atMs: number): EventRow => ({ nodeId, atMs, kind: "layer_change", layer: "session", detail: { from: "ok", to: "fail" } });
    store.appendEvents([change("quiet-01", now - 2 * 3_600_000)]);
    store.appendEvents(Array.from({ length: 600 }, (_, i) => change("busy-01", now - 3_600_000 + i)));
    store.appendEvents(Array.from({ length: 600 }, (_, i) => ({ nodeId: "busy-01", atMs: now - 60_000 + i, kind: "connect" as const, detail: { peer: "ipv4:100.64.0.2:41000" } })));
    const fleet = new Fleet(store, now);

    const filtered = recentChanges(renderFleetPage(fleet, new URLSearchParams("node=quiet-*"), 0, now));
    expect(filtered).toContain("/node/quiet-01");
    expect(filtered).not.toContain("/node/busy-01");
    expect(filtered).not.toContain("Nothing changed");

    const all = recentChanges(renderFleetPage(fleet, new URLSearchParams(), 0, now));
    expect(all).toContain("/node/busy-01"); // its layer changes, under the 600 connects
    expect(all).not.toContain("Nothing changed");
    store.close();
  });
});
