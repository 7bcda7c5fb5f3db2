// Where the PostgreSQL store connects, read from `--db postgres://user@host:port/db`.
// The password never rides in the URL (a command line shows in `ps` and shell
// history): it comes from PGPASSWORD, a file, or PostgreSQL's own ~/.pgpass, and
// every error the store raises has it taken out.
import { readFileSync } from "node:fs";
import type { ClientConfig } from "pg";

export class PgStoreError extends Error {
  /** PostgreSQL's SQLSTATE, when the server refused (e.g. pg-migrations.ts's LEASE_LOST_SQLSTATE). */
  code?: string;
}

export interface PgTarget {
  config: ClientConfig;
  /** The URL as it may be logged: no password (there is none in it). */
  description: string;
  /** Taken out of every error message (empty when pg reads ~/.pgpass itself). */
  password: string;
}

export interface PasswordSource {
  /** A file holding the password (its first line); before PGPASSWORD. */
  passwordFile?: string;
  env?: NodeJS.ProcessEnv;
}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/**
 * sslmode values taken, as libpq names them: `require` encrypts, `verify-ca` also checks the server's certificate
 * against the CA, `verify-full` its name too. As in libpq, `require` with an sslrootcert checks the CA (verify-ca).
 */
const SSL_MODES: Record<string, ClientConfig["ssl"] | undefined> = {
  disable: undefined,
  require: { rejectUnauthorized: false },
  "verify-ca": { rejectUnauthorized: true, checkServerIdentity: () => undefined },
  "verify-full": { rejectUnauthorized: true },
};

export function postgresTarget(db: string, source: PasswordSource = {}): PgTarget {
  let url: URL;
  // `postgres://user@/db?host=/run/postgresql` (a socket directory, as libpq writes it) has no host part, which URL refuses.
  const noHost = db.includes("@/");
  try {
    url = new URL(noHost ? db.replace("@/", "@no-host.invalid/") : db);
  } catch {
    // Not even the text: it may hold what the operator meant as a password.
    throw new PgStoreError("--db: not a valid postgres:// URL (postgres://USER@HOST:PORT/DATABASE)");
  }
  if (url.password) {
    throw new PgStoreError("--db: the URL holds a password, which would show in the process list and shell history; give it in PGPASSWORD or a password file instead");
  }
  const host = url.searchParams.get("host") ?? (noHost ? "" : decodeURIComponent(url.hostname.replace(/^\[(.+)\]$/, "$1")));
  const database = decodeURIComponent(url.pathname.slice(1));
  const user = decodeURIComponent(url.username);
  if (!host || !database || !user) throw new PgStoreError(`--db: the URL names no ${!user ? "user" : !host ? "host" : "database"} (postgres://USER@HOST:PORT/DATABASE)`);
  const sslmode = url.searchParams.get("sslmode") ?? "disable";
  if (!(sslmode in SSL_MODES)) throw new PgStoreError(`--db: sslmode=${sslmode} is not one of ${Object.keys(SSL_MODES).join(", ")}`);
  const sslrootcert = url.searchParams.get("sslrootcert");
  const ssl = SSL_MODES[sslmode === "require" && sslrootcert ? "verify-ca" : sslmode];
  const password = readPassword(source);
  const port = Number(url.searchParams.get("port") ?? (url.port || 5432));
  return {
    config: {
      host,
      port,
      user,
      database,
      password: password || undefined,
      ssl: ssl && sslrootcert ? { ...(ssl as object), ca: readRootCert(sslrootcert) } : ssl,
      application_name: "clawfleet-collector",
      // A server that stops answering must fail the writes waiting on it (their acks), not hold them forever.
      connectionTimeoutMillis: 10_000,
      // …and a connected one that stops answering too: no query waits beyond a minute (the longest, a prune, takes
      // seconds), and TCP keepalive probes a silent server after 10 s instead of the system's two hours.
      query_timeout: 60_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    },
    description: `postgres://${user}@${host.startsWith("/") ? encodeURIComponent(host) : host}:${port}/${database}`,
    password,
  };
}

function readPassword({ passwordFile, env = process.env }: PasswordSource): string {
  if (passwordFile) {
    try {
      return readFileSync(passwordFile, "utf8").split(/\r?\n/)[0]!;
    } catch (error) {
      throw new PgStoreError(`cannot read the database password file ${passwordFile}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`);
    }
  }
  return env.PGPASSWORD ?? "";
}

/** What to do about a failure, by SQLSTATE or socket error. */
const ADVICE: Record<string, string> = {
  "28P01": "check the password in PGPASSWORD or the password file",
  "28000": "check the role and pg_hba.conf allow this login",
  "3D000": "create the database (createdb) or fix its name in --db",
  "42501": "the role needs to own the database (or be granted CREATE on its schema)",
  ECONNREFUSED: "is the server running and listening on that address?",
  ENOTFOUND: "check the host name in --db",
  ETIMEDOUT: "check the host is reachable",
};

/** A driver error as the operator must see it: which database, what PostgreSQL said, what to do; never the password. */
export function storeError(target: Pick<PgTarget, "description" | "password">, error: unknown, doing = "cannot use the collector database"): PgStoreError {
  if (error instanceof PgStoreError) return error;
  const { message, code } = error as Error & { code?: string };
  const advice = code ? ADVICE[code] : undefined;
  const text = `${target.description}: ${doing}: ${message}${advice ? ` — ${advice}` : ""}`;
  const failure = new PgStoreError(redact(text, target.password));
  if (code) failure.code = code;
  return failure;
}

export function redact(text: string, password: string): string {
  return password ? text.split(password).join("[password]") : text;
}

function readRootCert(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new PgStoreError(`--db: sslrootcert=${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}
