import { create } from "@bufbuild/protobuf";
import { ListEventsRequestSchema, type Event } from "../../shared/gen/clawfleet/v1/query_pb.ts";
import { defineCommand, UsageError } from "../../shared/cli.ts";
import { parseDuration } from "../../shared/duration.ts";
import { painter } from "../../shared/style.ts";
import { table } from "../../shared/table.ts";
import { EVENT_KINDS } from "../state/store.ts";
import { callOptions, COLLECTOR_HELP, COLLECTOR_OPTION, EXIT_HELP, isoTime, QUERY_EXIT, withQueryClient } from "./query-client.ts";

export const eventsCommand = defineCommand({
  path: ["collector", "query", "events"],
  help: `Usage: clawfleet collector query events [--since 1h] [--node ID] [--kind KIND] [--limit N] [--collector HOST:PORT] [--json]

The event log, newest first: connects and disconnects, layer changes, findings
raised and cleared, credential rotations (fingerprints only), version changes,
silences and how they were relabelled.

Options:
  --since DURATION        how far back (default 1h; e.g. 30m, 24h, 7d)
  --node ID               one node only
  --kind KIND             one kind only: ${EVENT_KINDS.join(", ")}
  --limit N               most events to list (default 200)
${COLLECTOR_HELP}

${EXIT_HELP} (An event is failing when it raised a failure or marked a node unreachable.)

Examples:
  clawfleet collector query events --since 24h --node mini-03
  clawfleet collector query events --since 7d --kind credential_rotated --json`,
  options: { ...COLLECTOR_OPTION, since: { type: "string", default: "1h" }, node: { type: "string" }, kind: { type: "string" }, limit: { type: "string", default: "200" } },
  async run(values) {
    let sinceMs: number;
    try {
      sinceMs = parseDuration(values.since!);
    } catch (error) {
      throw new UsageError(`--since: ${(error as Error).message}`);
    }
    if (values.kind !== undefined && !(EVENT_KINDS as readonly string[]).includes(values.kind)) throw new UsageError(`--kind must be one of ${EVENT_KINDS.join(", ")}, got "${values.kind}"`);
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 5000) throw new UsageError(`--limit must be a whole number from 1 to 5000, got "${values.limit}"`);
    return withQueryClient(values, async (client) => {
      const response = await client.listEvents(create(ListEventsRequestSchema, { sinceUnixMs: BigInt(Date.now() - sinceMs), nodeId: values.node ?? "", kind: values.kind ?? "", limit }), callOptions());
      if (values.json) process.stdout.write(JSON.stringify({ events: response.events.map(eventJson) }, null, 2) + "\n");
      else process.stdout.write(response.events.length ? table(["AT", "NODE", "KIND", "LAYER/CODE", "DETAIL"], eventRows(response.events, true), painter(process.stdout)) : `No events in the last ${values.since}.\n`);
      return response.events.some(isFailingEvent) ? QUERY_EXIT.failing : QUERY_EXIT.clean;
    });
  },
});

function isFailingEvent(e: Event): boolean {
  return (e.kind === "finding_raised" && e.detail.status === "fail") || (e.kind === "silent" && e.detail.label === "unreachable");
}

export function eventJson(e: Event) {
  return { at: isoTime(e.atUnixMs), node: e.nodeId, kind: e.kind, layer: e.layer || null, code: e.code || null, detail: e.detail };
}

export function eventRows(events: readonly Event[], withNode: boolean): string[][] {
  return events.map((e) => {
    const what = [e.layer, e.code].filter(Boolean).join("/") || "-";
    const detail = Object.entries(e.detail).map(([k, v]) => `${k}=${v}`).join(" ");
    return withNode ? [isoTime(e.atUnixMs), e.nodeId, e.kind, what, detail] : [isoTime(e.atUnixMs), e.kind, what, detail];
  });
}
