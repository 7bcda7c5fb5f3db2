// A DNS server on loopback UDP that answers SRV questions from a table, for the
// agent's `--collector srv:NAME`. Node's resolver is pointed at it with
// dns.Resolver#setServers(["127.0.0.1:PORT"]), so the real c-ares client, its
// retries and timeouts are what the test exercises.
// Wire format: RFC 1035 §4.1 (header, question, resource record; §4.1.4 name
// compression for the answer's owner name) and RFC 2782 (SRV RDATA: priority,
// weight, port, then the target as uncompressed labels).
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";

export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** Per name: records to answer, NXDOMAIN, or no answer at all (a server that hangs). */
export type SrvAnswer = SrvRecord[] | "nxdomain" | "silent";

export interface FakeDnsServer {
  /** For dns.Resolver#setServers. */
  server: string;
  readonly answers: Map<string, SrvAnswer>;
  /** Names asked so far, lower case, in order. */
  readonly asked: string[];
  stop(): Promise<void>;
}

const TYPE_SRV = 33;
const CLASS_IN = 1;

export async function startFakeDns(answers: Record<string, SrvAnswer> = {}): Promise<FakeDnsServer> {
  const table = new Map(Object.entries(answers).map(([name, answer]) => [name.toLowerCase(), answer]));
  const asked: string[] = [];
  const socket: Socket = createSocket("udp4");
  socket.on("message", (query: Buffer, peer: RemoteInfo) => {
    const question = readQuestion(query);
    if (!question) return;
    asked.push(question.name);
    const answer = table.get(question.name) ?? "nxdomain";
    if (answer === "silent") return;
    const records = answer === "nxdomain" || question.type !== TYPE_SRV ? [] : answer;
    socket.send(response(query, question.end, records, answer === "nxdomain" ? 3 : 0), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    server: `127.0.0.1:${socket.address().port}`,
    answers: table,
    asked,
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** The first question: its name (lower case), type, and where it ends (header is 12 bytes). */
function readQuestion(query: Buffer): { name: string; type: number; end: number } | undefined {
  if (query.length < 12 || query.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < query.length && query[at]! !== 0) {
    const length = query[at]!;
    if (length > 63) return undefined; // a question carries no compression pointers
    labels.push(query.subarray(at + 1, at + 1 + length).toString("ascii"));
    at += 1 + length;
  }
  at += 1;
  if (at + 4 > query.length) return undefined;
  return { name: labels.join(".").toLowerCase(), type: query.readUInt16BE(at), end: at + 4 };
}

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, "").split(".").filter((label) => label !== "");
  return Buffer.concat([...parts.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, "ascii")])), Buffer.from([0])]);
}

function response(query: Buffer, questionEnd: number, records: SrvRecord[], rcode: number): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // ID
  const rd = query[2]! & 0x01;
  header[2] = 0x80 | 0x04 | rd; // QR, AA, RD as asked; opcode 0
  header[3] = 0x80 | rcode; // RA, RCODE
  header.writeUInt16BE(1, 4); // QDCOUNT
  header.writeUInt16BE(records.length, 6); // ANCOUNT
  const answers = records.map((record) => {
    const target = encodeName(record.target);
    const rr = Buffer.alloc(2 + 2 + 2 + 4 + 2 + 6);
    rr.writeUInt16BE(0xc00c, 0); // the question's name, at offset 12
    rr.writeUInt16BE(TYPE_SRV, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(30, 6); // TTL
    rr.writeUInt16BE(6 + target.length, 10); // RDLENGTH
    rr.writeUInt16BE(record.priority, 12);
    rr.writeUInt16BE(record.weight, 14);
    rr.writeUInt16BE(record.port, 16);
    return Buffer.concat([rr, target]);
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...answers]);
}
