// What every `collector query` command shares: the address, the client, the
// exit statuses and the message when the collector is not there.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { ListEventsRequestSchema, QueryService, type Event, type ListCredentialsResponse } from "../../shared/gen/clawfleet/v1/query_pb.ts";
import { parseAddress, UsageError } from "../../shared/cli.ts";
import { operatorIdentityDir, readIdentity } from "../../shared/pki/identity-files.ts";
import { collectorCredentials, COLLECTOR_CHANNEL_OPTIONS } from "../../shared/pki/collector-channel.ts";
import { createClient, type MethodsOf, type ServiceClient } from "../../shared/grpc-adapter.ts";
import { describeGrpcError } from "../../shared/grpc-errors.ts";

import { DEFAULT_GRPC_ADDRESS as DEFAULT_COLLECTOR_ADDRESS } from "../../shared/defaults.ts";

/** Exit statuses of every query command. */
export const QUERY_EXIT = { clean: 0, failing: 1, usage: 2, unreachable: 3 } as const;

export const COLLECTOR_OPTION = { collector: { type: "string" }, json: { type: "boolean" }, insecure: { type: "boolean" } } as const;

export const COLLECTOR_HELP = `  --collector HOST:PORT   collector gRPC address (default: the one \`collector login\` used, $CLAWFLEET_COLLECTOR or ${DEFAULT_COLLECTOR_ADDRESS})
  --insecure              plaintext, no certificate: only for a collector started with --insecure (npm start)
  --json                  print JSON for scripts
  -h, --help              show this help`;

export const EXIT_HELP = `Exit status: 0 nothing listed is failing, 1 something listed is failing,
2 usage error, 3 collector unreachable.`;

/**
 * Largest answer a query accepts. gRPC's default (4 MiB) is less than `query nodes` at
 * 10,000 nodes (5 MB with a tenth of them failing): the CLI failed with RESOURCE_EXHAUSTED.
 */
export const QUERY_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
export const QUERY_CHANNEL_OPTIONS = { "grpc.max_receive_message_length": QUERY_MAX_RESPONSE_BYTES } as const;

/** The channel: mTLS with the operator certificate from `collector login`, or plaintext with --insecure. */
function queryChannel(flags: { collector?: string; insecure?: boolean }): { address: string; credentials: grpc.ChannelCredentials; options: grpc.ClientOptions } {
  if (flags.insecure) {
    const address = flags.collector ?? process.env.CLAWFLEET_COLLECTOR ?? DEFAULT_COLLECTOR_ADDRESS;
    parseAddress("collector", address);
    return { address, credentials: grpc.credentials.createInsecure(), options: QUERY_CHANNEL_OPTIONS };
  }
  let identity;
  try {
    identity = readIdentity(operatorIdentityDir());
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!identity) {
    throw new UsageError(
      "queries need an operator certificate: on the collector's host run `clawfleet collector enroll NAME --operator`, then here `clawfleet collector login --collector HOST:PORT --token TOKEN` (or --insecure for a collector started with --insecure)",
    );
  }
  const address = flags.collector ?? process.env.CLAWFLEET_COLLECTOR ?? identity.collector;
  parseAddress("collector", address);
  return { address, credentials: collectorCredentials(identity), options: { ...COLLECTOR_CHANNEL_OPTIONS, ...QUERY_CHANNEL_OPTIONS } };
}

/** Calls the collector; an unreachable collector prints what to do and exits 3. */
export async function withQueryClient(flags: { collector?: string; insecure?: boolean }, work: (client: ServiceClient<MethodsOf<typeof QueryService>>) => Promise<number>): Promise<number> {
  const { address, credentials, options } = queryChannel(flags);
  const client = createClient(QueryService, address, credentials, options);
  try {
    return await work(client);
  } catch (error) {
    const e = error as grpc.ServiceError;
    if (e.code === grpc.status.NOT_FOUND || e.code === grpc.status.INVALID_ARGUMENT) {
      process.stderr.write(`clawfleet: ${e.details}\n`);
      return QUERY_EXIT.usage;
    }
    if (e.code === grpc.status.UNAUTHENTICATED || e.code === grpc.status.PERMISSION_DENIED) {
      process.stderr.write(`clawfleet: the collector at ${address} refused this query: ${e.details}\n`);
      return QUERY_EXIT.unreachable;
    }
    if (typeof e.code !== "number") throw error;
    process.stderr.write(`clawfleet: cannot query the collector at ${address}: ${describeGrpcError(e)}\n  Is the collector running there? Start it with \`clawfleet collector serve\`, or pass --collector HOST:PORT (or set CLAWFLEET_COLLECTOR).\n`);
    return QUERY_EXIT.unreachable;
  } finally {
    client.close();
  }
}

export const callOptions = () => ({ deadline: Date.now() + 5000 });

export function isoTime(ms: bigint | number): string {
  const n = Number(ms);
  return n > 0 ? new Date(n).toISOString().replace(/\.\d{3}Z$/, "Z") : "-";
}

/**
 * Every credential rotation: the first page ListCredentials returned, then the
 * rest through ListEvents by kind, a page at a time from the last one seen, so
 * no fixed window hides the older ones.
 */
export async function allRotations(client: ServiceClient<MethodsOf<typeof QueryService>>, first: ListCredentialsResponse): Promise<Event[]> {
  const rotations = [...first.rotations];
  let more = first.rotationsTruncated;
  while (more && rotations.length > 0) {
    const last = rotations.at(-1)!;
    const page = await client.listEvents(create(ListEventsRequestSchema, { kind: "credential_rotated", beforeUnixMs: last.atUnixMs, beforeId: last.id, limit: ROTATION_PAGE }), callOptions());
    rotations.push(...page.events);
    more = page.events.length === ROTATION_PAGE;
  }
  return rotations;
}

const ROTATION_PAGE = 5000;
