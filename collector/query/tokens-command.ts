import { create } from "@bufbuild/protobuf";
import { ListCredentialsRequestSchema, type CredentialUse } from "../../shared/gen/clawfleet/v1/query_pb.ts";
import { defineCommand, UsageError } from "../../shared/cli.ts";
import { isFingerprint } from "../../shared/fingerprint.ts";
import { painter } from "../../shared/style.ts";
import { table } from "../../shared/table.ts";
import { eventJson } from "./events-command.ts";
import { tokensTicket, type CredentialGroup } from "./tokens-ticket.ts";
import { allRotations, callOptions, COLLECTOR_HELP, COLLECTOR_OPTION, isoTime, QUERY_EXIT, withQueryClient } from "./query-client.ts";

export const tokensCommand = defineCommand({
  path: ["collector", "query", "tokens"],
  help: `Usage: clawfleet collector query tokens [--collector HOST:PORT] [--json | --ticket [--fingerprint FP]]

Every credential fingerprint in the fleet (gateway tokens and provider keys,
keyed HMACs: the collector never sees a secret), where each is used — its blast
radius — and the rotation history: when each source changed, from which
fingerprint to which, so you know what to roll back to.

Options:
  --ticket                print Markdown to paste into a change ticket: for each
                          fingerprint in use, grouped by kind, where it is used,
                          when it changed, what to roll back to and its blast
                          radius, plus a change plan; not with --json
  --fingerprint FP        with --ticket: only this hmac: fingerprint (in use or retired)
${COLLECTOR_HELP}

Exit status: 0 no secret is shared, 1 one fingerprint is in use on several nodes
(token_shared; with --fingerprint, that one), 2 usage error or unknown
fingerprint, 3 collector unreachable.

Examples:
  clawfleet collector query tokens
  clawfleet collector query tokens --json | jq '.fingerprints[] | select(.nodes | length > 1)'
  clawfleet collector query tokens --ticket --fingerprint hmac:0123456789abcdef > ticket.md`,
  options: { ...COLLECTOR_OPTION, ticket: { type: "boolean" }, fingerprint: { type: "string" } },
  async run(values) {
    if (values.ticket && values.json) throw new UsageError("--json and --ticket are two outputs: choose one");
    if (values.fingerprint !== undefined && !values.ticket) throw new UsageError("--fingerprint narrows the ticket: use it with --ticket");
    if (values.fingerprint !== undefined && !isFingerprint(values.fingerprint)) throw new UsageError(`--fingerprint takes a fingerprint (hmac:…), got something else; never pass a secret`);
    return withQueryClient(values, async (client) => {
      const response = await client.listCredentials(create(ListCredentialsRequestSchema, {}), callOptions());
      const rotations = await allRotations(client, response);
      const groups = byFingerprint(response.credentials);
      const shared = groups.some((g) => g.activeNodes.length > 1);
      if (values.ticket) {
        const fingerprint = values.fingerprint;
        const one = fingerprint === undefined ? undefined : groups.find((g) => g.fingerprint === fingerprint);
        if (fingerprint !== undefined && !one) {
          const local = fingerprint.startsWith("sha256:") ? " (sha256: fingerprints are a host's own; the collector knows keyed hmac: ones: find yours by node and source in `clawfleet collector query tokens`)" : "";
          process.stderr.write(`clawfleet: no node has reported the credential ${fingerprint}${local}\n`);
          return QUERY_EXIT.usage;
        }
        process.stdout.write(tokensTicket({ groups, rotations, nowMs: Number(response.nowUnixMs) || Date.now(), ...(fingerprint !== undefined ? { fingerprint } : {}) }));
        return (one ? one.activeNodes.length > 1 : shared) ? QUERY_EXIT.failing : QUERY_EXIT.clean;
      }
      if (values.json) {
        process.stdout.write(JSON.stringify({
          fingerprints: groups.map((g) => ({
            fingerprint: g.fingerprint,
            kind: g.kind,
            nodes: g.activeNodes,
            uses: g.uses.map((u) => ({ node: u.nodeId, source: u.source, subject: u.subject, first_seen: isoTime(u.firstSeenUnixMs), last_seen: isoTime(u.lastSeenUnixMs), retired: Number(u.retiredUnixMs) ? isoTime(u.retiredUnixMs) : null })),
          })),
          rotations: rotations.map(eventJson),
        }, null, 2) + "\n");
        return shared ? QUERY_EXIT.failing : QUERY_EXIT.clean;
      }
      const paint = painter(process.stdout);
      if (groups.length === 0) {
        process.stdout.write("No credentials reported yet.\n");
        return QUERY_EXIT.clean;
      }
      const rows = groups.map((g) => [g.fingerprint, g.kind, String(g.activeNodes.length), g.uses.filter((u) => !Number(u.retiredUnixMs)).map((u) => `${u.nodeId} (${u.source})`).join(", ") || "-", g.activeNodes.length ? "in use" : "retired"]);
      let out = table(["FINGERPRINT", "KIND", "NODES", "WHERE USED", "STATUS"], rows, paint, (row, column) => (column === 2 && Number(row[2]) > 1 ? "red" : undefined));
      out += "\n" + paint("bold", "Rotations") + "\n";
      out += rotations.length
        ? table(["AT", "NODE", "KIND", "SOURCE", "FROM → TO"], rotations.map((e) => [isoTime(e.atUnixMs), e.nodeId, e.detail.kind ?? "", e.detail.source ?? "", `${e.detail.from} → ${e.detail.to}`]), paint)
        : "  none recorded\n";
      process.stdout.write(out);
      return shared ? QUERY_EXIT.failing : QUERY_EXIT.clean;
    });
  },
});

function byFingerprint(uses: readonly CredentialUse[]): CredentialGroup[] {
  const map = new Map<string, CredentialUse[]>();
  for (const u of uses) map.set(u.fingerprint, [...(map.get(u.fingerprint) ?? []), u]);
  return [...map].map(([fingerprint, list]) => ({
    fingerprint,
    kind: list[0]!.kind,
    uses: list,
    activeNodes: [...new Set(list.filter((u) => !Number(u.retiredUnixMs)).map((u) => u.nodeId))].sort(),
  })).sort((a, b) => b.activeNodes.length - a.activeNodes.length || a.fingerprint.localeCompare(b.fingerprint));
}
