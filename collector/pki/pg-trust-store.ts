// The trust store in a PostgreSQL database shared by several collectors: the
// fleet CA (its key sealed, ca-key.ts), enrollment tokens (hashes, single-use
// across collectors: the UPDATE that uses one re-checks the row after any
// concurrent one commits), and every certificate issued with its revocation.
// A gRPC call is authenticated synchronously, so each collector keeps a copy
// of the certificate rows and brings it up to date by the revision counter
// (pg-trust-schema.ts): at once when a write elsewhere commits (LISTEN/NOTIFY,
// milliseconds), and every POLL_INTERVAL_MS whatever happens (a listening
// connection lost, a notification missed), so a revocation made through any
// collector is refused by every other within that interval plus one query.
import pg, { type PoolClient } from "pg";
import type { Role } from "../../shared/pki/x509.ts";
import { certificatePin, createAuthority } from "../../shared/pki/x509.ts";
import { type PasswordSource, type PgTarget, postgresTarget, storeError } from "../state/pg-connection.ts";
import { Authority } from "./authority.ts";
import { type CaKey, CaKeyError, openCaKey, sealCaKey } from "./ca-key.ts";
import { migrateTrust } from "./pg-trust-schema.ts";
import type { CertificateLookup, TrustRecords } from "./trust-records.ts";
import { type CertificateRow, type Enrollment, hashToken, type RedeemRefusal } from "./trust-store.ts";

/** How often each collector re-reads what changed: the bound on seeing another collector's revocation or issue. */
export const POLL_INTERVAL_MS = 1000;
const DAY_MS = 86_400_000;
const CA_LIFETIME_MS = 10 * 365 * DAY_MS;
const CA_SUBJECT = "CN=clawfleet fleet CA, O=clawfleet";
/** Notified in every transaction that takes a revision: the payload is the revision. */
const CHANNEL = "clawfleet_trust";

export interface PgTrustOptions extends PasswordSource {
  /** Keep the local copy current (a serving collector); the CLI commands need not. */
  watch?: boolean;
  pollIntervalMs?: number;
  /** A poll that failed (the server restarted): the next one retries. Never holds the password. */
  onError?: (message: string) => void;
}

interface CertificateDbRow {
  serial: string;
  name: string;
  role: Role;
  issued_ms: string;
  not_after_ms: string;
  revoked_ms: string | null;
  changed_rev: string;
}

const CERTIFICATE_COLUMNS = "serial, name, role, issued_ms, not_after_ms, revoked_ms, changed_rev";

function certificateRow(row: CertificateDbRow): CertificateRow {
  return {
    serial: row.serial,
    name: row.name,
    role: row.role,
    issuedMs: Number(row.issued_ms),
    notAfterMs: Number(row.not_after_ms),
    revokedMs: row.revoked_ms === null ? undefined : Number(row.revoked_ms),
  };
}

export class PgTrustStore implements TrustRecords, CertificateLookup {
  readonly description: string;
  private readonly pool: pg.Pool;
  private readonly target: PgTarget;
  private readonly options: PgTrustOptions;
  /** The certificate rows as of revision `seenRevision`, plus this collector's own writes. */
  private readonly certificates = new Map<string, CertificateRow>();
  private revoked = new Set<string>();
  private seenRevision = 0n;
  private changed = false;
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private pollAgain = false;
  private listener: pg.Client | undefined;
  private closed = false;

  private constructor(target: PgTarget, options: PgTrustOptions) {
    this.target = target;
    this.options = options;
    this.description = target.description;
    // One connection polls and reads, one writes: enrollment is rare, and the fleet store has its own pool.
    this.pool = new pg.Pool({ ...target.config, max: 2 });
    this.pool.on("error", (error) => options.onError?.(storeError(target, error, "trust store connection lost").message));
  }

  /** Connects, brings the trust tables up to this version and loads the certificate rows. */
  static async open(db: string, options: PgTrustOptions = {}): Promise<PgTrustStore> {
    const target = postgresTarget(db, options);
    const store = new PgTrustStore(target, options);
    try {
      const client = await store.pool.connect();
      try {
        await migrateTrust(client);
      } finally {
        client.release();
      }
      await store.poll();
    } catch (error) {
      await store.pool.end().catch(() => undefined);
      throw storeError(target, error, "cannot open the collector's trust store");
    }
    if (options.watch) {
      store.timer = setInterval(() => {
        void store.pollQuietly();
        if (!store.listener) void store.listen();
      }, options.pollIntervalMs ?? POLL_INTERVAL_MS);
      store.timer.unref();
      await store.listen();
    }
    return store;
  }

  /** The fleet CA certificate, if a collector has made it. */
  async caCertificate(): Promise<string | undefined> {
    const rows = await this.query<{ certificate_pem: string }>("SELECT certificate_pem FROM trust_authority WHERE id = 1");
    return rows[0]?.certificate_pem;
  }

  /**
   * The fleet CA, made by the first collector to get here: two starting at
   * once both make one, the INSERT keeps the first committed, and both load
   * that. `serverNames` go in this collector's own server certificate.
   */
  async authority(key: CaKey, serverNames: readonly string[] = []): Promise<Authority> {
    let stored = await this.storedAuthority();
    if (!stored) {
      const created = await createAuthority(CA_SUBJECT, new Date(Date.now() + CA_LIFETIME_MS));
      const sealed = await sealCaKey(key, created.keyPem, certificatePin(created.certificatePem));
      await this.query(
        `INSERT INTO trust_authority (id, certificate_pem, key_kdf, key_salt, key_iv, key_sealed, created_ms) VALUES (1, $1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO NOTHING`,
        [created.certificatePem, sealed.kdf, sealed.salt, sealed.iv, sealed.sealed, Date.now()],
      );
      stored = await this.storedAuthority();
      if (!stored) throw new CaKeyError(`${this.description}: the fleet CA row vanished right after it was made`);
    }
    const pin = certificatePin(stored.certificate_pem);
    const keyPem = await openCaKey(key, { kdf: stored.key_kdf, salt: stored.key_salt, iv: stored.key_iv, sealed: stored.key_sealed }, pin, this.description);
    return Authority.fromKey(stored.certificate_pem, keyPem, serverNames);
  }

  private async storedAuthority() {
    const rows = await this.query<{ certificate_pem: string; key_kdf: string; key_salt: Buffer; key_iv: Buffer; key_sealed: Buffer }>(
      "SELECT certificate_pem, key_kdf, key_salt, key_iv, key_sealed FROM trust_authority WHERE id = 1",
    );
    return rows[0];
  }

  async addEnrollment(secret: string, enrollment: Enrollment, nowMs = Date.now()): Promise<void> {
    await this.query("INSERT INTO trust_enrollments (token_hash, name, role, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5)", [
      hashToken(secret),
      enrollment.name,
      enrollment.role,
      nowMs,
      enrollment.expiresMs,
    ]);
  }

  /**
   * Uses a token up. Two collectors redeeming one token at once: the second
   * UPDATE waits for the first to commit, re-reads the row, finds used_ms set
   * and changes nothing (READ COMMITTED's re-check), so one certificate.
   */
  async redeem(secret: string, nowMs = Date.now()): Promise<Enrollment | RedeemRefusal> {
    const hash = hashToken(secret);
    const used = await this.query<{ name: string; role: Role; expires_ms: string }>(
      "UPDATE trust_enrollments SET used_ms = $1 WHERE token_hash = $2 AND used_ms IS NULL AND expires_ms > $1 RETURNING name, role, expires_ms",
      [nowMs, hash],
    );
    if (used[0]) return { name: used[0].name, role: used[0].role, expiresMs: Number(used[0].expires_ms) };
    const rows = await this.query<{ used_ms: string | null }>("SELECT used_ms FROM trust_enrollments WHERE token_hash = $1", [hash]);
    if (!rows[0]) return "unknown_token";
    return rows[0].used_ms !== null ? "token_used" : "token_expired";
  }

  async recordCertificate(row: CertificateRow): Promise<void> {
    await this.inRevision(async (client, revision) => {
      await client.query("INSERT INTO trust_certificates (serial, name, role, issued_ms, not_after_ms, changed_rev) VALUES ($1, $2, $3, $4, $5, $6)", [
        row.serial,
        row.name,
        row.role,
        row.issuedMs,
        row.notAfterMs,
        revision,
      ]);
    });
    // The peer this was issued to may call here next: it is known at once, without waiting for a poll.
    this.certificates.set(row.serial, { ...row, revokedMs: undefined });
  }

  async revoke(name: string, role: Role, nowMs = Date.now()): Promise<number> {
    const serials = await this.inRevision(async (client, revision) => {
      await client.query("DELETE FROM trust_enrollments WHERE name = $1 AND role = $2 AND used_ms IS NULL", [name, role]);
      const result = await client.query<{ serial: string }>(
        "UPDATE trust_certificates SET revoked_ms = $1, changed_rev = $2 WHERE name = $3 AND role = $4 AND revoked_ms IS NULL RETURNING serial",
        [nowMs, revision, name, role],
      );
      return result.rows.map((r) => r.serial);
    });
    for (const serial of serials) {
      const known = this.certificates.get(serial);
      if (known) known.revokedMs = nowMs;
      this.revoked.add(serial);
    }
    if (serials.length > 0) this.notify();
    return serials.length;
  }

  /** As the SQLite store's: tokens and certificates a day past expiry; expired rows leave the local copy too. */
  async prune(nowMs = Date.now()): Promise<{ tokens: number; certificates: number }> {
    const before = nowMs - DAY_MS;
    const tokens = await this.query<{ n: string }>("WITH gone AS (DELETE FROM trust_enrollments WHERE expires_ms < $1 RETURNING 1) SELECT count(*) AS n FROM gone", [before]);
    const certificates = await this.query<{ n: string }>(
      "WITH gone AS (DELETE FROM trust_certificates WHERE not_after_ms < $1 RETURNING 1) SELECT count(*) AS n FROM gone",
      [before],
    );
    for (const [serial, row] of this.certificates) {
      if (row.notAfterMs < before) {
        this.certificates.delete(serial);
        this.revoked.delete(serial);
      }
    }
    return { tokens: Number(tokens[0]!.n), certificates: Number(certificates[0]!.n) };
  }

  certificate(serial: string): CertificateRow | undefined {
    const row = this.certificates.get(serial);
    // Issued by another collector since the last poll: refused this once (the agent retries), fetched now.
    if (!row && this.timer) void this.pollQuietly();
    return row;
  }

  revokedSerials(): Set<string> {
    return new Set(this.revoked);
  }

  changedElsewhere(): boolean {
    const changed = this.changed;
    this.changed = false;
    return changed;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.polling;
    await this.pool.end();
  }

  /** Polls now, or once more after the poll under way (a notification during a poll may be past its snapshot). */
  private pollQuietly(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.polling) {
      this.pollAgain = true;
      return this.polling;
    }
    this.polling = (async () => {
      do {
        this.pollAgain = false;
        try {
          await this.poll();
        } catch (error) {
          this.options.onError?.(storeError(this.target, error, "cannot read the revocation list").message);
        }
      } while (this.pollAgain && !this.closed);
    })().finally(() => (this.polling = undefined));
    return this.polling;
  }

  /** A connection of its own that hears every trust write committed anywhere; when lost, the poll timer makes another. */
  private async listen(): Promise<void> {
    if (this.listener || this.closed) return;
    const client = new pg.Client(this.target.config);
    this.listener = client;
    const drop = (error?: Error) => {
      if (this.listener !== client) return;
      this.listener = undefined;
      if (error && !this.closed) this.options.onError?.(storeError(this.target, error, "trust store notifications lost; polling meanwhile").message);
      void client.end().catch(() => undefined);
    };
    client.on("error", drop);
    client.on("end", () => drop());
    client.on("notification", () => void this.pollQuietly());
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      // Whatever committed before LISTEN took effect.
      void this.pollQuietly();
    } catch (error) {
      drop(error as Error);
    }
  }

  /** Brings the local copy up to the newest committed revision (see trust_revision). */
  private async poll(): Promise<void> {
    const rows = await this.query<CertificateDbRow>(`SELECT ${CERTIFICATE_COLUMNS} FROM trust_certificates WHERE changed_rev > $1 ORDER BY changed_rev`, [
      this.seenRevision.toString(),
    ]);
    if (rows.length === 0) return;
    let revocations = false;
    for (const db of rows) {
      const row = certificateRow(db);
      this.certificates.set(row.serial, row);
      if (row.revokedMs !== undefined && !this.revoked.has(row.serial)) {
        this.revoked.add(row.serial);
        revocations = true;
      }
    }
    this.seenRevision = BigInt(rows.at(-1)!.changed_rev);
    if (revocations) this.notify();
  }

  private notify(): void {
    this.changed = true;
    for (const listener of this.listeners) listener();
  }

  /** Runs `work` in a transaction holding the next revision (and its row lock until COMMIT). */
  private async inRevision<T>(work: (client: PoolClient, revision: string) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw storeError(this.target, error, "cannot reach the collector's trust store");
    }
    try {
      await client.query("BEGIN");
      const { rows } = await client.query<{ revision: string }>("UPDATE trust_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision");
      const result = await work(client, rows[0]!.revision);
      // Delivered at COMMIT, to every listening collector.
      await client.query("SELECT pg_notify($1, $2)", [CHANNEL, rows[0]!.revision]);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw storeError(this.target, error, "cannot write to the collector's trust store");
    } finally {
      client.release();
    }
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(text, values)).rows;
    } catch (error) {
      throw storeError(this.target, error, "cannot use the collector's trust store");
    }
  }
}
