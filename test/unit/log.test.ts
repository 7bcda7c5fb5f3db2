// The log line formats: text for people, JSON for log shippers, and the level filter.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, logOptionsFromFlags } from "../../shared/log.ts";

function capture(options: Parameters<typeof createLogger>[2]) {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on("data", (chunk) => lines.push(...String(chunk).split("\n").filter(Boolean)));
  return { log: createLogger("collector", stream, options), lines };
}

describe("logs", () => {
  it("writes one JSON object per line whose time, level, component and message no field can override", () => {
    const { log, lines } = capture({ format: "json" });
    log.info("agent connected", { node: "mini-01", peer: "127.0.0.1:5000", lastSeq: 41n, msg: "forged", level: "debug" });
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({ level: "info", component: "collector", msg: "agent connected", node: "mini-01", peer: "127.0.0.1:5000", lastSeq: "41" });
    expect(Date.parse(record.time)).toBeGreaterThan(0);
    expect(lines).toHaveLength(1);
  });

  it("keeps the text format people read, quoting values with spaces", () => {
    const { log, lines } = capture({});
    log.warn("report rejected", { reason: "seq out of window", node: "mini-01" });
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ warn  collector: report rejected reason="seq out of window" node=mini-01$/);
  });

  it("drops what is below the level asked for", () => {
    const { log, lines } = capture(logOptionsFromFlags({ "log-level": "warn", "log-format": "json" }));
    log.debug("noise");
    log.info("chatter");
    log.error("store write failed", { path: "collector.db" });
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["store write failed"]);
  });
});
