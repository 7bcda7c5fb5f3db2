// The whole of "several collectors" as an operator runs it, with mTLS: two `collector serve`
// processes on one real PostgreSQL share the fleet CA (made by the first, its key sealed in the
// database under --ca-key-file) and the trust records. A node enrolled through one collector's
// database reports with `agent run --collector A,B`; its collector is killed with SIGKILL and the
// agent moves to the other with the same certificate, every seq stored once; a revocation through
// the CLI ends its stream at the collector that holds it and keeps it out.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noGateway } from "../helpers/no-gateway.ts";
import { freePort } from "../helpers/ports.ts";
import { runClawfleet, spawnClawfleet, stopAll, type Spawned } from "../helpers/processes.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";

const NODE = "mini-pg";
/** Keepalive (5 s + 5 s) plus the agent's own backoff: the bound an operator is promised. */
const MOVE_BOUND_MS = 15_000;

let server: TestPostgres;
let url: string;
let dir: string;
let passwordFile: string;
let caKeyFile: string;

async function serve(): Promise<{ grpcAddress: string; process: Spawned }> {
  const grpcAddress = `127.0.0.1:${await freePort()}`;
  const process = spawnClawfleet(["collector", "serve", "--grpc-listen", grpcAddress, "--http-listen", `127.0.0.1:${await freePort()}`, "--db", url, "--db-password-file", passwordFile, "--ca-key-file", caKeyFile]);
  await process.waitFor(/collector ready/, 30_000);
  return { grpcAddress, process };
}

async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await probe())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - started;
}

async function storedSeqs(): Promise<{ n: bigint; hi: bigint }> {
  return server.admin(async (client) => {
    const { rows } = await client.query<{ n: string; hi: string | null }>("SELECT count(*) AS n, max(seq) AS hi FROM reports WHERE node_id = $1", [NODE]);
    return { n: BigInt(rows[0]!.n), hi: BigInt(rows[0]!.hi ?? 0) };
  }, new URL(url).pathname.slice(1));
}

beforeAll(async () => {
  server = await startPostgres();
  url = await server.createDatabase();
  dir = mkdtempSync(join(tmpdir(), "clawfleet-shared-mtls-"));
  passwordFile = join(dir, "db-password");
  writeFileSync(passwordFile, `${server.password}\n`, { mode: 0o600 });
  caKeyFile = join(dir, "ca-key");
  writeFileSync(caKeyFile, randomBytes(32).toString("base64url"), { mode: 0o600 });
}, 90_000);

afterAll(async () => {
  await stopAll();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("two collectors on one PostgreSQL, with mTLS", () => {
  it("share one CA and trust: enrolled at one, the agent moves to the other on a kill with the same certificate, every seq stored once; a revocation keeps it out", async () => {
    const a = await serve();
    const b = await serve();
    const token = await runClawfleet(["collector", "enroll", NODE, "--db", url, "--db-password-file", passwordFile]);
    expect(token.code, token.stderr).toBe(0);
    const state = join(dir, "agent");
    const list = `${a.grpcAddress},${b.grpcAddress}`;
    const enrolled = await runClawfleet(["agent", "enroll", "--collector", list, "--token", token.stdout.trim(), "--state-dir", state]);
    expect(enrolled.code, enrolled.stderr).toBe(0);

    const agent = spawnClawfleet(["agent", "run", "--state-dir", state, "--interval", "1s"], await noGateway(dir));
    const [, first] = (await agent.waitFor(/connected to collector collector=(\S+) /, 30_000)) as RegExpMatchArray;
    const [holder, other] = first === a.grpcAddress ? [a, b] : [b, a];
    await agent.waitFor(/report seq=3 /, 30_000);

    holder.process.child.kill("SIGKILL");
    await holder.process.exited;
    const movedMs = await until("the agent welcomed by the other collector", () => agent.stderr.includes(`connected to collector collector=${other.grpcAddress} `), MOVE_BOUND_MS);
    console.log(`moved to the other collector ${movedMs} ms after SIGKILL (mTLS, shared CA in PostgreSQL)`);
    const atMove = await storedSeqs();
    await until("reports stored through the other collector", async () => (await storedSeqs()).hi >= atMove.hi + 2n, 20_000);
    expect(agent.stderr).toMatch(/transport=mtls/);
    expect(agent.stderr).not.toMatch(/PERMISSION_DENIED|UNAUTHENTICATED|unknown_certificate/);

    // Revoked through the database: the collector holding the stream ends it and refuses the node.
    const revoked = await runClawfleet(["collector", "revoke", NODE, "--db", url, "--db-password-file", passwordFile]);
    expect(revoked.code, revoked.stderr).toBe(0);
    await until("the agent refused after the revocation", () => /revoked|PERMISSION_DENIED|UNAUTHENTICATED/.test(agent.stderr.slice(agent.stderr.lastIndexOf(`collector=${other.grpcAddress}`))), 10_000);
    await agent.stop();

    // Every seq the agent numbered is stored exactly once, across both collectors.
    const stored = await storedSeqs();
    expect(stored.n).toBe(stored.hi);
    // No secret of the database or the CA in anything printed.
    const printed = [a.process.stderr, a.process.stdout, b.process.stderr, b.process.stdout, agent.stderr, token.stderr, enrolled.stdout].join("\n");
    expect(printed).not.toContain(server.password);
    expect(printed).not.toContain((await import("node:fs")).readFileSync(caKeyFile, "utf8"));
    expect(printed).not.toMatch(/PRIVATE KEY/);
  }, 150_000);
});
