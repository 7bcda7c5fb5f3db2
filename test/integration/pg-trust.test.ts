// Enrollment and revocation through any collector on one PostgreSQL database
// (Debian's real server, started by this file on loopback): the fleet CA made
// once however many collectors start together, its key sealed under the key
// file every collector is given; a token good once across collectors; a
// revocation made at one refused by the other within the poll bound; and no
// key material or password in any error, log line or command output.
import * as grpc from "@grpc/grpc-js";
import { X509Certificate } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectorSecurity, openPgTrust, type CollectorSecurity, type PgTrustLocation } from "../../collector/pki/collector-security.ts";
import { CaKeyError } from "../../collector/pki/ca-key.ts";
import { normalizeSerial } from "../../collector/pki/authority.ts";
import { PgTrustStore, POLL_INTERVAL_MS } from "../../collector/pki/pg-trust-store.ts";
import type { PeerIdentity } from "../../collector/pki/peer-auth.ts";
import { parseAddress } from "../../shared/cli.ts";
import { createLogger } from "../../shared/log.ts";
import { enroll, EnrollError, renew } from "../../shared/pki/enroll-client.ts";
import { readIdentity } from "../../shared/pki/identity-files.ts";
import { COLLECTOR_NAME } from "../../shared/pki/collector-channel.ts";
import { newEnrollmentToken } from "../../shared/pki/enrollment-token.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { REPO_ROOT, runClawfleet, spawnProcess, stopAll } from "../helpers/processes.ts";

let server: TestPostgres;
let dir: string;
let keyFile: string;
const KEY = "k".repeat(12) + Buffer.from("clawfleet test CA sealing key, 44 chars").toString("base64url");
/** Everything the collectors and commands printed or threw: scanned for secrets at the end. */
const output: string[] = [];
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  server = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), "clawfleet-pgtrust-"));
  keyFile = writeKey("ca-key", KEY);
}, 90_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await stopAll();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function writeKey(name: string, text: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, `${text}\n`, { mode });
  chmodSync(path, mode);
  return path;
}

const location = (db: string, extra: Partial<PgTrustLocation> = {}): PgTrustLocation => ({
  db,
  password: { env: { PGPASSWORD: server.password } },
  caKey: { file: keyFile },
  ...extra,
});

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    output.push((error as Error).message);
    return error as Error;
  }
  throw new Error("expected a failure");
}

const caRows = (db: string) => server.admin(async (c) => (await c.query("SELECT count(*)::int AS n FROM trust_authority")).rows[0].n as number, new URL(db).pathname.slice(1));

interface TestCollector {
  name: string;
  address: string;
  security: CollectorSecurity;
}

/** A collector's secure gRPC side (Enroll and the certificate checks) on a shared database, logging into `output`. */
async function startTrustCollector(name: string, db: string): Promise<TestCollector> {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      output.push(String(chunk));
      done();
    },
  });
  const security = await collectorSecurity({ insecure: false, pkiDir: join(dir, "unused-pki"), postgres: location(db, { serverNames: [`${name}.example`, "127.0.0.1"] }), log: createLogger(name, sink) });
  const grpcServer = new grpc.Server();
  security.register(grpcServer, () => {});
  const port = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync("127.0.0.1:0", security.credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  await new Promise((resolve) => setImmediate(resolve));
  closers.push(async () => {
    grpcServer.forceShutdown();
    await security.close();
  });
  return { name, address: `127.0.0.1:${port}`, security };
}

async function enrollAt(collector: TestCollector, token: string, into: string) {
  const { host, port } = parseAddress("collector", collector.address);
  return enroll({ address: collector.address, host, port, token, dir: into });
}

/** What grpc-js hands peer-auth for a verified client certificate. */
function callWith(certificatePem: string) {
  const certificate = new X509Certificate(certificatePem);
  const subject = Object.fromEntries(certificate.subject.split("\n").map((line) => line.split("=") as [string, string]));
  return { getAuthContext: () => ({ sslPeerCertificate: { subject, serialNumber: certificate.serialNumber } as never }) };
}

describe("trust on a shared PostgreSQL database", () => {
  it("makes the fleet CA once when collectors start at once; each signs its own server certificate for its own names", async () => {
    for (let round = 0; round < 3; round++) {
      const db = await server.createDatabase();
      const opened = await Promise.all(["a", "b", "c"].map((name) => openPgTrust(location(db, { serverNames: [`collector-${name}.example`, "10.0.0.7"] }))));
      expect(new Set(opened.map(({ authority }) => authority.pin)).size).toBe(1);
      expect(await caRows(db)).toBe(1);
      const ca = new X509Certificate(opened[0]!.authority.caPem);
      for (const [i, { authority }] of opened.entries()) {
        const serverCertificate = new X509Certificate(authority.serverCertPem);
        expect(serverCertificate.verify(ca.publicKey)).toBe(true);
        expect(serverCertificate.checkHost(COLLECTOR_NAME)).toBe(COLLECTOR_NAME);
        expect(serverCertificate.checkHost(`collector-${"abc"[i]}.example`)).toBeDefined();
        expect(serverCertificate.checkIP("10.0.0.7")).toBe("10.0.0.7");
      }
      // A collector started later loads the same CA.
      const later = await openPgTrust(location(db));
      expect(later.authority.pin).toBe(opened[0]!.authority.pin);
      await Promise.all([...opened, later].map(({ trust }) => trust.close()));
    }
  }, 60_000);

  it("keeps the CA key only sealed: the database holds neither the key nor the sealing key", async () => {
    const db = await server.createDatabase();
    const { trust } = await openPgTrust(location(db));
    await trust.close();
    const dump = await server.admin(async (c) => JSON.stringify((await c.query("SELECT * FROM trust_authority")).rows), new URL(db).pathname.slice(1));
    expect(dump).toContain("BEGIN CERTIFICATE");
    expect(dump).not.toMatch(/PRIVATE KEY/);
    expect(dump).not.toContain(KEY);
    expect(dump).not.toContain(Buffer.from(KEY).toString("hex"));
  }, 30_000);

  it("refuses a missing, too open, short or wrong CA key, naming the flag and never the key", async () => {
    const db = await server.createDatabase();
    const first = await openPgTrust(location(db));
    closers.push(() => first.trust.close());
    const none = await errorOf(openPgTrust(location(db, { caKey: { env: {} } })));
    expect(none).toBeInstanceOf(CaKeyError);
    expect(none.message).toMatch(/--ca-key-file PATH \(mode 0600\) or CLAWFLEET_CA_KEY/);
    const missing = await errorOf(openPgTrust(location(db, { caKey: { file: join(dir, "no-such-key") } })));
    expect(missing.message).toMatch(/^--ca-key-file .*no-such-key: cannot read \(ENOENT\)/);
    const open = writeKey("open-key", KEY, 0o644);
    expect((await errorOf(openPgTrust(location(db, { caKey: { file: open } })))).message).toMatch(/^--ca-key-file .*open-key: readable by other users \(mode 0644\).*chmod 600/);
    const short = writeKey("short-key", "hunter2");
    expect((await errorOf(openPgTrust(location(db, { caKey: { file: short } })))).message).toMatch(/^--ca-key-file .*short-key: the key is too short \(7 bytes, at least 32\)/);
    const otherKey = "o".repeat(44);
    const wrong = writeKey("wrong-key", otherKey);
    const refused = await errorOf(openPgTrust(location(db, { caKey: { file: wrong } })));
    expect(refused.message).toMatch(/^--ca-key-file .*wrong-key: this key does not open the fleet CA key stored in postgres:\/\/.*give every collector that same key/);
    expect(refused.message).not.toContain(otherKey);
    const fromEnv = await errorOf(openPgTrust(location(db, { caKey: { env: { CLAWFLEET_CA_KEY: otherKey } } })));
    expect(fromEnv.message).toMatch(/^CLAWFLEET_CA_KEY: this key does not open/);
    // A wrong key made no second CA.
    expect(await caRows(db)).toBe(1);
  }, 30_000);

  it("lets a token be redeemed once across two stores racing on one database", async () => {
    const db = await server.createDatabase();
    const stores = await Promise.all([0, 1].map(() => PgTrustStore.open(db, { env: { PGPASSWORD: server.password } })));
    closers.push(...stores.map((s) => () => s.close()));
    const secrets = Array.from({ length: 40 }, () => newEnrollmentToken("P".repeat(43)).secret);
    for (const [i, secret] of secrets.entries()) await stores[i % 2]!.addEnrollment(secret, { name: `mini-${i}`, role: "node", expiresMs: Date.now() + 60_000 });
    const outcomes = await Promise.all(secrets.map((secret) => Promise.all(stores.map((store) => store.redeem(secret)))));
    for (const [i, pair] of outcomes.entries()) {
      expect(pair.filter((o) => typeof o === "object")).toEqual([{ name: `mini-${i}`, role: "node", expiresMs: expect.any(Number) }]);
      expect(pair.filter((o) => typeof o === "string")).toEqual(["token_used"]);
    }
  }, 30_000);

  it("lets a token be redeemed once across two processes racing on one database", async () => {
    const db = await server.createDatabase();
    const store = await PgTrustStore.open(db, { env: { PGPASSWORD: server.password } });
    const secrets = Array.from({ length: 30 }, () => newEnrollmentToken("P".repeat(43)).secret);
    for (const [i, secret] of secrets.entries()) await store.addEnrollment(secret, { name: `proc-${i}`, role: "node", expiresMs: Date.now() + 60_000 });
    await store.close();
    const env = { PATH: process.env.PATH, PGPASSWORD: server.password, REDEEM_DB: db, REDEEM_SECRETS: JSON.stringify(secrets) };
    const sides = ["0", "1"].map((reverse) => spawnProcess(process.execPath, [join(REPO_ROOT, "test/helpers/redeem-race.ts")], { ...env, REDEEM_REVERSE: reverse }));
    await Promise.all(sides.map((side) => side.waitFor(/^ready$/m, 20_000)));
    for (const side of sides) side.child.kill("SIGUSR2");
    expect(await Promise.all(sides.map((side) => side.exited))).toEqual([0, 0]);
    const [first, second] = sides.map((side) => JSON.parse(side.stdout) as string[]);
    for (let i = 0; i < secrets.length; i++) expect([first![i], second![i]].sort()).toEqual([`proc-${i}`, "token_used"]);
    // Both processes won some: the race was real.
    expect(first!.some((o) => o !== "token_used") && second!.some((o) => o !== "token_used")).toBe(true);
  }, 30_000);

  it("sees another store's revocation by polling when its notification connection is gone", async () => {
    const db = await server.createDatabase();
    const errors: string[] = [];
    const watcher = await PgTrustStore.open(db, { env: { PGPASSWORD: server.password }, watch: true, onError: (message) => errors.push(message) });
    const writer = await PgTrustStore.open(db, { env: { PGPASSWORD: server.password } });
    try {
      await writer.recordCertificate({ serial: "0A", name: "mini-p", role: "node", issuedMs: Date.now(), notAfterMs: Date.now() + 60_000 });
      const start = Date.now();
      while (!watcher.certificate("0A") && Date.now() - start < 2 * POLL_INTERVAL_MS) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(watcher.certificate("0A")).toMatchObject({ name: "mini-p" });
      const cut = await server.admin(
        async (c) => (await c.query("SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'", [new URL(db).pathname.slice(1)])).rowCount,
      );
      expect(cut).toBe(1);
      expect(await writer.revoke("mini-p", "node")).toBe(1);
      const revokedAt = Date.now();
      while (!watcher.revokedSerials().has("0A") && Date.now() - revokedAt < 3 * POLL_INTERVAL_MS) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(watcher.revokedSerials().has("0A")).toBe(true);
      expect(Date.now() - revokedAt).toBeLessThan(2 * POLL_INTERVAL_MS);
      expect(errors.join("\n")).toMatch(/trust store notifications lost; polling meanwhile/);
      output.push(...errors);
    } finally {
      await watcher.close();
      await writer.close();
    }
  }, 30_000);

  describe("two collectors", () => {
    let db: string;
    let a: TestCollector;
    let b: TestCollector;
    let raceWinnerDir: string;
    const env = () => ({ PGPASSWORD: server.password, HOME: dir, CLAWFLEET_DATA_DIR: join(dir, "data") });

    beforeAll(async () => {
      db = await server.createDatabase();
      [a, b] = await Promise.all([startTrustCollector("collector-a", db), startTrustCollector("collector-b", db)]);
    }, 60_000);

    it("enrolls a token at one collector only when both are raced with it; the certificate then works at the other", async () => {
      for (let i = 0; i < 4; i++) {
        const made = await runClawfleet(["collector", "enroll", `mini-${i}`, "--db", db], env());
        output.push(made.stdout, made.stderr);
        expect(made.code).toBe(0);
        const token = made.stdout.trim();
        const attempts = await Promise.allSettled([enrollAt(a, token, join(dir, `race-${i}-a`)), enrollAt(b, token, join(dir, `race-${i}-b`))]);
        const won = attempts.filter((r) => r.status === "fulfilled");
        const lost = attempts.filter((r): r is PromiseRejectedResult => r.status === "rejected");
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0]!.reason).toBeInstanceOf(EnrollError);
        expect((lost[0]!.reason as Error).message).toMatch(/refused: enrollment token refused: unknown, expired or already used/);
        // The collector that did not issue it hears of it (NOTIFY), within the poll bound at worst, and renews it.
        const winner = attempts[0]!.status === "fulfilled" ? { at: a, other: b, dir: join(dir, `race-${i}-a`) } : { at: b, other: a, dir: join(dir, `race-${i}-b`) };
        const identity = readIdentity(winner.dir)!;
        const issuedAt = Date.now();
        while (!winner.other.security.auth.authenticate(callWith(identity.certificatePem), ["node"]).ok && Date.now() - issuedAt < 2 * POLL_INTERVAL_MS) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        output.push(`certificate known at the other collector after ${Date.now() - issuedAt} ms\n`);
        expect(winner.other.security.auth.authenticate(callWith(identity.certificatePem), ["node"])).toMatchObject({ ok: true });
        const renewed = await renew({ ...identity, collector: winner.other.address }, winner.dir);
        if (i === 0) raceWinnerDir = winner.dir;
        expect(renewed.name).toBe(`mini-${i}`);
      }
    }, 90_000);

    it(`ends a live stream at the other collector, and refuses the certificate there, within the poll bound (${POLL_INTERVAL_MS} ms) of a revocation, by NOTIFY at once`, async () => {
      const made = await runClawfleet(["collector", "enroll", "mini-rev", "--db", db], env());
      output.push(made.stdout, made.stderr);
      const identityDir = join(dir, "mini-rev");
      await enrollAt(a, made.stdout.trim(), identityDir);
      const identity = readIdentity(identityDir)!;
      const call = callWith(identity.certificatePem);
      const issuedAt = Date.now();
      while (!b.security.auth.authenticate(call, ["node"]).ok && Date.now() - issuedAt < 2 * POLL_INTERVAL_MS) await new Promise((resolve) => setTimeout(resolve, 5));
      const authenticated = b.security.auth.authenticate(call, ["node"]);
      expect(authenticated).toMatchObject({ ok: true, identity: { name: "mini-rev", serial: normalizeSerial(new X509Certificate(identity.certificatePem).serialNumber) } });
      let endedAt: number | undefined;
      let endedWhy: string | undefined;
      b.security.auth.track((authenticated as { identity: PeerIdentity }).identity, (reason) => {
        endedAt = Date.now();
        endedWhy = reason;
      });

      // What `collector revoke` does, in this process so the delay is measured from the COMMIT.
      const revoker = await PgTrustStore.open(db, { env: { PGPASSWORD: server.password } });
      const revokedAt = Date.now();
      expect(await revoker.revoke("mini-rev", "node")).toBe(1);
      const committedAt = Date.now();
      await revoker.close();
      while (endedAt === undefined && Date.now() - revokedAt < 5000) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(endedWhy).toBe("revoked");
      output.push(`revoke transaction took ${committedAt - revokedAt} ms; stream at the other collector ended after ${endedAt! - revokedAt} ms\n`);
      expect(endedAt! - revokedAt).toBeLessThan(POLL_INTERVAL_MS + 500);
      expect(b.security.auth.authenticate(call, ["node"])).toMatchObject({ ok: false, reason: "revoked" });
      // And through the real call, at both collectors.
      for (const collector of [a, b]) {
        const refused = await errorOf(renew({ ...identity, collector: collector.address }, identityDir));
        expect(refused.message).toMatch(/refused: this certificate was revoked/);
      }
    }, 60_000);

    it("revokes through `collector revoke --db postgres://…`: both collectors refuse the node's certificates", async () => {
      const identity = readIdentity(raceWinnerDir)!;
      const revoked = await runClawfleet(["collector", "revoke", "mini-0", "--db", db], env());
      output.push(revoked.stdout, revoked.stderr);
      // The certificate from the race and the one renewed at the other collector.
      expect(revoked.stdout).toMatch(/revoked 2 certificates of node "mini-0"/);
      const start = Date.now();
      const refusedEverywhere = () => [a, b].every((c) => c.security.auth.authenticate(callWith(identity.certificatePem), ["node"]).ok === false);
      while (!refusedEverywhere() && Date.now() - start < 2 * POLL_INTERVAL_MS) await new Promise((resolve) => setTimeout(resolve, 5));
      for (const collector of [a, b]) expect(collector.security.auth.authenticate(callWith(identity.certificatePem), ["node"])).toMatchObject({ ok: false, reason: "revoked" });
    }, 30_000);

    it("makes tokens and revokes through the CLI with no CA on the database yet only when given the key", async () => {
      const fresh = await server.createDatabase();
      const refused = await runClawfleet(["collector", "enroll", "mini-x", "--db", fresh], env());
      output.push(refused.stdout, refused.stderr);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/holds no fleet CA yet: start a collector on it first, or give --ca-key-file PATH/);
      const tooOpen = await runClawfleet(["collector", "enroll", "mini-x", "--db", fresh, "--ca-key-file", writeKey("cli-open-key", KEY, 0o640)], env());
      output.push(tooOpen.stdout, tooOpen.stderr);
      expect(tooOpen.code).not.toBe(0);
      expect(tooOpen.stderr).toMatch(/--ca-key-file .*cli-open-key: readable by other users \(mode 0640\)/);
      expect(await caRows(fresh)).toBe(0);
      const made = await runClawfleet(["collector", "enroll", "mini-x", "--db", fresh, "--ca-key-file", keyFile], env());
      output.push(made.stdout, made.stderr);
      expect(made.code).toBe(0);
      const { authority, trust } = await openPgTrust(location(fresh));
      await trust.close();
      expect(made.stdout).toContain(`.${authority.pin}`);
      const revoked = await runClawfleet(["collector", "revoke", "mini-x", "--db", fresh], env());
      output.push(revoked.stdout, revoked.stderr);
      expect(revoked.stdout).toMatch(/revoked 0 certificates of node "mini-x"/);
    }, 60_000);
  });

  it("printed no password, CA key, sealing key or private key anywhere", () => {
    const everything = output.join("\n");
    // The measured delays, for the record.
    console.info(everything.split("\n").filter((line) => / after \d+ ms$/.test(line)).join("\n"));
    expect(everything.length).toBeGreaterThan(0);
    expect(everything).not.toContain(server.password);
    expect(everything).not.toContain(KEY);
    expect(everything).not.toContain("o".repeat(44));
    expect(everything).not.toMatch(/PRIVATE KEY/);
  });
});
