import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isPostgresUrl, PgStoreError, postgresTarget, redact, storeError } from "../../collector/state/pg-connection.ts";

describe("the PostgreSQL store's --db URL and password", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "clawfleet-pgconn-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("tells a postgres URL from a SQLite path", () => {
    expect(["postgres://u@h/db", "postgresql://u@h/db", "POSTGRES://u@h/db"].map(isPostgresUrl)).toEqual([true, true, true]);
    expect(["/var/lib/clawfleet/collector.db", "postgres.db", "./postgres://x"].map(isPostgresUrl)).toEqual([false, false, false]);
  });

  it("reads host, port, user and database; a socket directory from ?host=; logs it without a password", () => {
    const tcp = postgresTarget("postgres://clawfleet@db.internal:6432/fleet", { env: { PGPASSWORD: "pw-from-env" } });
    expect(tcp.config).toMatchObject({ host: "db.internal", port: 6432, user: "clawfleet", database: "fleet", password: "pw-from-env", ssl: undefined });
    expect(tcp.description).toBe("postgres://clawfleet@db.internal:6432/fleet");
    const socket = postgresTarget("postgres://clawfleet@/fleet?host=/var/run/postgresql", { env: {} });
    expect(socket.config).toMatchObject({ host: "/var/run/postgresql", port: 5432, password: undefined });
    expect(socket.description).toBe("postgres://clawfleet@%2Fvar%2Frun%2Fpostgresql:5432/fleet");
    expect(postgresTarget("postgres://a@[::1]/d", { env: {} }).config.host).toBe("::1");
    expect(postgresTarget("postgres://a@h/d?sslmode=verify-full", { env: {} }).config.ssl).toEqual({ rejectUnauthorized: true });
  });

  it("checks the server's certificate whenever a CA is given (require with sslrootcert is verify-ca, as in libpq), and names an unreadable one", () => {
    const ca = join(dir, "root.crt");
    writeFileSync(ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    for (const mode of ["require", "verify-ca"]) {
      const ssl = postgresTarget(`postgres://a@h/d?sslmode=${mode}&sslrootcert=${ca}`, { env: {} }).config.ssl as { rejectUnauthorized: boolean; ca: string };
      expect(ssl.rejectUnauthorized, mode).toBe(true);
      expect(ssl.ca).toContain("BEGIN CERTIFICATE");
    }
    expect(postgresTarget("postgres://a@h/d?sslmode=require", { env: {} }).config.ssl).toEqual({ rejectUnauthorized: false });
    expect(() => postgresTarget(`postgres://a@h/d?sslmode=verify-full&sslrootcert=${join(dir, "missing.crt")}`, { env: {} })).toThrow(/--db: sslrootcert=.*missing\.crt cannot be read \(ENOENT\)/);
  });

  it("takes the password from a file before PGPASSWORD, and never from the URL", () => {
    const file = join(dir, "pw");
    writeFileSync(file, "from-file\nignored second line\n");
    expect(postgresTarget("postgres://a@h/d", { passwordFile: file, env: { PGPASSWORD: "from-env" } }).config.password).toBe("from-file");
    expect(() => postgresTarget("postgres://a@h/d", { passwordFile: join(dir, "missing"), env: {} })).toThrow(/cannot read the database password file .*missing: ENOENT/);
    const refused = () => postgresTarget("postgres://a:hunter2-secret@h/d", { env: {} });
    expect(refused).toThrow(PgStoreError);
    expect(refused).toThrow(/holds a password/);
    try {
      refused();
    } catch (error) {
      expect((error as Error).message).not.toContain("hunter2-secret");
    }
  });

  it("refuses what it cannot use, saying what is missing", () => {
    expect(() => postgresTarget("postgres://h/d", { env: {} })).toThrow(/names no user/);
    expect(() => postgresTarget("postgres://a@h/", { env: {} })).toThrow(/names no database/);
    expect(() => postgresTarget("postgres://a@/d", { env: {} })).toThrow(/names no host/);
    expect(() => postgresTarget("postgres://a@h/d?sslmode=prefer", { env: {} })).toThrow(/sslmode=prefer is not one of disable, require, verify-ca, verify-full/);
    expect(() => postgresTarget("postgres://a:sec ret@h:notaport/d", { env: {} })).toThrow(/^--db: not a valid postgres:\/\/ URL/);
  });

  it("names the database and the next step in an error, with the password taken out wherever it appears", () => {
    const target = { description: "postgres://a@h:5432/d", password: "p@ss-word-99" };
    const error = storeError(target, Object.assign(new Error('password authentication failed for user "a" (tried p@ss-word-99)'), { code: "28P01" }), "cannot open the collector database");
    expect(error.message).toBe('postgres://a@h:5432/d: cannot open the collector database: password authentication failed for user "a" (tried [password]) — check the password in PGPASSWORD or the password file');
    expect(redact("no secret here", "")).toBe("no secret here");
  });
});
