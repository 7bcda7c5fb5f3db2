// The node page's finding lanes and credential marks, from the event log.
import { describe, expect, it } from "vitest";
import { credentialMarks, findingLanes } from "../../collector/classify/finding-timeline.ts";
import type { EventRow } from "../../collector/state/store.ts";

const H = 3_600_000;
const T0 = Date.UTC(2026, 11, 4, 12);
const NOW = T0 + 24 * H;
let id = 1;
const raised = (h: number, layer: string, code: string, status = "fail"): EventRow => ({ id: id++, nodeId: "n", atMs: T0 + h * H, kind: "finding_raised", layer, code, detail: { status, summary: "s" } });
const cleared = (h: number, layer: string, code: string): EventRow => ({ id: id++, nodeId: "n", atMs: T0 + h * H, kind: "finding_cleared", layer, code, detail: {} });
const hours = (spans: { fromMs: number; toMs: number }[]) => spans.map((s) => [(s.fromMs - T0) / H, (s.toMs - T0) / H]);

describe("finding lanes over 24 hours", () => {
  it("gives each code a lane in layer order, with a span from each raise to its clear", () => {
    const lanes = findingLanes({
      fromMs: T0,
      toMs: NOW,
      events: [cleared(3, "session", "token_mismatch"), raised(1, "session", "token_mismatch"), raised(5, "session", "token_mismatch"), cleared(6, "session", "token_mismatch"), raised(2, "gateway", "not_running")],
      active: [{ layer: "gateway", code: "not_running", status: "fail" }],
    });
    expect(lanes.map((l) => `${l.layer}/${l.code}`)).toEqual(["gateway/not_running", "session/token_mismatch"]);
    expect(hours(lanes[1]!.spans)).toEqual([[1, 3], [5, 6]]);
    expect(lanes[0]!.spans).toEqual([{ fromMs: T0 + 2 * H, toMs: NOW, status: "fail", raisedBefore: false, open: true }]);
  });

  it("starts a span at the window's edge when the raise is older than the window, and shows active problems with no event", () => {
    const lanes = findingLanes({ fromMs: T0, toMs: NOW, events: [cleared(4, "tunnel", "tailscale_needs_login")], active: [{ layer: "drift", code: "multiple_binaries", status: "warn" }] });
    expect(lanes).toEqual([
      { layer: "tunnel", code: "tailscale_needs_login", spans: [{ fromMs: T0, toMs: T0 + 4 * H, status: "unknown", raisedBefore: true, open: false }] },
      { layer: "drift", code: "multiple_binaries", spans: [{ fromMs: T0, toMs: NOW, status: "warn", raisedBefore: true, open: true }] },
    ]);
  });

  it("keeps at most maxLanes lanes", () => {
    const events = Array.from({ length: 30 }, (_, i) => raised(1, "gateway", `code_${String(i).padStart(2, "0")}`));
    expect(findingLanes({ fromMs: T0, toMs: NOW, events, active: [], maxLanes: 5 }).map((l) => l.code)).toEqual(["code_00", "code_01", "code_02", "code_03", "code_04"]);
  });

  it("marks credential rotations, additions and removals with their fingerprints, oldest first", () => {
    const marks = credentialMarks([
      { nodeId: "n", atMs: T0 + 5 * H, kind: "credential_rotated", detail: { kind: "gateway_token", source: "config gateway.auth.token", subject: "gateway:18789", from: "hmac:aaaaaaaaaaaaaaaa", to: "hmac:bbbbbbbbbbbbbbbb" } },
      { nodeId: "n", atMs: T0 + H, kind: "credential_added", detail: { kind: "provider_key", source: "auth store main/anthropic", subject: "main/anthropic", to: "hmac:cccccccccccccccc" } },
      raised(2, "session", "token_mismatch"),
    ]);
    expect(marks).toEqual([
      { atMs: T0 + H, change: "added", kind: "provider_key", source: "auth store main/anthropic", to: "hmac:cccccccccccccccc" },
      { atMs: T0 + 5 * H, change: "rotated", kind: "gateway_token", source: "config gateway.auth.token", from: "hmac:aaaaaaaaaaaaaaaa", to: "hmac:bbbbbbbbbbbbbbbb" },
    ]);
  });
});
