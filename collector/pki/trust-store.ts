// Who may talk to the collector: one-time enrollment tokens (stored as hashes)
// and every certificate issued, with its revocation. One small SQLite file
// beside the CA, shared by the running collector and the `collector enroll`
// and `collector revoke` commands; the collector notices their writes through
// PRAGMA data_version and cuts a revoked peer's stream at once.
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import type { Role } from "../../shared/pki/x509.ts";

export interface Enrollment {
  name: string;
  role: Role;
  expiresMs: number;
}

export interface CertificateRow {
  serial: string;
  name: string;
  role: Role;
  issuedMs: number;
  notAfterMs: number;
  revokedMs?: number;
}

/** Why a token was refused: the enrolling peer learns only that it was refused. */
export type RedeemRefusal = "unknown_token" | "token_expired" | "token_used";

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS enrollments (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    used_ms INTEGER
  );
  CREATE TABLE IF NOT EXISTS certificates (
    serial TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    issued_ms INTEGER NOT NULL,
    not_after_ms INTEGER NOT NULL,
    revoked_ms INTEGER
  );
  CREATE INDEX IF NOT EXISTS certificates_name ON certificates (role, name);`;

export const hashToken = (secret: string) => createHash("sha256").update(secret).digest("hex");

export class TrustStore {
  private readonly db: DatabaseSync;
  private lastDataVersion = -1;

  constructor(path: string) {
    try {
      this.db = new DatabaseSync(path);
      this.db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;");
      this.db.exec(SCHEMA);
    } catch (error) {
      throw new Error(`${path}: cannot open the collector's trust store (${(error as Error).message})`);
    }
  }

  addEnrollment(secret: string, enrollment: Enrollment, nowMs = Date.now()): void {
    this.db
      .prepare("INSERT INTO enrollments (token_hash, name, role, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?)")
      .run(hashToken(secret), enrollment.name, enrollment.role, nowMs, enrollment.expiresMs);
  }

  /** Uses a token up, atomically: two peers racing with one token get one certificate. */
  redeem(secret: string, nowMs = Date.now()): Enrollment | RedeemRefusal {
    const hash = hashToken(secret);
    const used = this.db
      .prepare("UPDATE enrollments SET used_ms = ? WHERE token_hash = ? AND used_ms IS NULL AND expires_ms > ? RETURNING name, role, expires_ms")
      .get(nowMs, hash, nowMs) as { name: string; role: Role; expires_ms: number } | undefined;
    if (used) return { name: used.name, role: used.role, expiresMs: used.expires_ms };
    const row = this.db.prepare("SELECT used_ms, expires_ms FROM enrollments WHERE token_hash = ?").get(hash) as { used_ms: number | null; expires_ms: number } | undefined;
    if (!row) return "unknown_token";
    return row.used_ms !== null ? "token_used" : "token_expired";
  }

  recordCertificate(row: CertificateRow): void {
    this.db
      .prepare("INSERT INTO certificates (serial, name, role, issued_ms, not_after_ms) VALUES (?, ?, ?, ?, ?)")
      .run(row.serial, row.name, row.role, row.issuedMs, row.notAfterMs);
  }

  /** Revokes every certificate of `name` in `role` and drops its unused tokens; returns how many certificates. */
  revoke(name: string, role: Role, nowMs = Date.now()): number {
    this.db.prepare("DELETE FROM enrollments WHERE name = ? AND role = ? AND used_ms IS NULL").run(name, role);
    const result = this.db.prepare("UPDATE certificates SET revoked_ms = ? WHERE name = ? AND role = ? AND revoked_ms IS NULL").run(nowMs, name, role);
    return Number(result.changes);
  }

  /**
   * Forgets tokens and certificates past their expiry (a day's grace for clock
   * skew): TLS already refuses an expired certificate, and without this every
   * renewal would add a row forever.
   */
  prune(nowMs = Date.now()): { tokens: number; certificates: number } {
    const before = nowMs - 86_400_000;
    const tokens = this.db.prepare("DELETE FROM enrollments WHERE expires_ms < ?").run(before).changes;
    const certificates = this.db.prepare("DELETE FROM certificates WHERE not_after_ms < ?").run(before).changes;
    return { tokens: Number(tokens), certificates: Number(certificates) };
  }

  certificate(serial: string): CertificateRow | undefined {
    const row = this.db.prepare("SELECT serial, name, role, issued_ms, not_after_ms, revoked_ms FROM certificates WHERE serial = ?").get(serial) as
      | { serial: string; name: string; role: Role; issued_ms: number; not_after_ms: number; revoked_ms: number | null }
      | undefined;
    if (!row) return undefined;
    return { serial: row.serial, name: row.name, role: row.role, issuedMs: row.issued_ms, notAfterMs: row.not_after_ms, revokedMs: row.revoked_ms ?? undefined };
  }

  revokedSerials(): Set<string> {
    const rows = this.db.prepare("SELECT serial FROM certificates WHERE revoked_ms IS NOT NULL").all() as { serial: string }[];
    return new Set(rows.map((r) => r.serial));
  }

  /** True when another connection (a `collector revoke`) wrote since the last call. */
  changedElsewhere(): boolean {
    const { data_version } = this.db.prepare("PRAGMA data_version").get() as { data_version: number };
    const changed = this.lastDataVersion !== -1 && data_version !== this.lastDataVersion;
    this.lastDataVersion = data_version;
    return changed;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
