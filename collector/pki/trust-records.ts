// What the collector asks of a trust store, whichever engine holds it: the
// SQLite file beside the CA (synchronous answers, taken by `await` as they are)
// or the shared PostgreSQL database (promises). Checking a peer stays
// synchronous on both (a gRPC call is authenticated before its handler runs):
// the PostgreSQL store answers those from a local copy it keeps current.
import type { Role } from "../../shared/pki/x509.ts";
import type { CertificateRow, Enrollment, RedeemRefusal } from "./trust-store.ts";

type MaybePromise<T> = T | Promise<T>;

export interface TrustRecords {
  addEnrollment(secret: string, enrollment: Enrollment, nowMs?: number): MaybePromise<void>;
  /** Uses a token up, atomically for every collector on the store: one token, one certificate. */
  redeem(secret: string, nowMs?: number): MaybePromise<Enrollment | RedeemRefusal>;
  /** Settles once the row is where every collector sees it. */
  recordCertificate(row: CertificateRow): MaybePromise<void>;
  revoke(name: string, role: Role, nowMs?: number): MaybePromise<number>;
  prune(nowMs?: number): MaybePromise<{ tokens: number; certificates: number }>;
  close(): MaybePromise<void>;
}

/** What peer-auth.ts reads on every call, synchronously. */
export interface CertificateLookup {
  certificate(serial: string): CertificateRow | undefined;
  revokedSerials(): Set<string>;
  /** True when a write elsewhere (another collector, `collector revoke`) was seen since the last call. */
  changedElsewhere(): boolean;
  /** Calls `listener` as soon as a change is seen, when the store learns of changes by itself (PostgreSQL); returns the unsubscribe. */
  onChange?(listener: () => void): () => void;
}
