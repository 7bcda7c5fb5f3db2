// The collector's side of trust, assembled: CA and server certificate, the
// trust store, certificate checks for every call, and the Enroll service.
// `--insecure` gets none of it and may only listen on loopback. The trust
// lives in pki/ beside a SQLite store, or in a shared PostgreSQL database
// (CA key sealed under the key every collector is given, ca-key.ts).
import * as grpc from "@grpc/grpc-js";
import { join } from "node:path";
import type { Logger } from "../../shared/log.ts";
import { EnrollService } from "../../shared/gen/clawfleet/v1/enroll_pb.ts";
import { addService } from "../../shared/grpc-adapter.ts";
import { Authority } from "./authority.ts";
import { enrollHandlers } from "./enroll-service.ts";
import { certificateAuth, insecureAuth, type PeerAuth } from "./peer-auth.ts";
import { collectorServerCredentials } from "./server-credentials.ts";
import { TrustStore } from "./trust-store.ts";
import type { TrustRecords, CertificateLookup } from "./trust-records.ts";
import { type CaKeySource, readCaKey } from "./ca-key.ts";
import { PgTrustStore } from "./pg-trust-store.ts";
import type { PasswordSource } from "../state/pg-connection.ts";

export const DEFAULT_CERTIFICATE_LIFETIME_MS = 30 * 86_400_000;

export interface CollectorSecurity {
  auth: PeerAuth;
  credentials: grpc.ServerCredentials;
  /** Adds EnrollService (secure mode only). */
  register(server: grpc.Server, reject: (reason: string) => void): void;
  /** Drops expired tokens and certificates; runs with the store's history pruning. A PostgreSQL trust store prunes in the background and logs what it dropped (zeros here). */
  prune(): { tokens: number; certificates: number };
  /** A PostgreSQL trust store ends its connections: await it. */
  close(): void | Promise<void>;
}

/** Where a collector on a shared PostgreSQL database finds its trust. */
export interface PgTrustLocation {
  /** The `--db postgres://…` URL (no password in it). */
  db: string;
  /** The database password's source, as the fleet store's. */
  password?: PasswordSource;
  /** `--ca-key-file PATH`, or CLAWFLEET_CA_KEY in `env`. */
  caKey: CaKeySource;
  /** This collector's own names (host names, addresses) for its server certificate, besides the fleet name agents check. */
  serverNames?: readonly string[];
}

/** The PKI lives beside the store, in its own directory (0700). */
export const pkiDirFor = (dbDir: string) => join(dbDir, "pki");

export async function openTrust(pkiDir: string): Promise<{ authority: Authority; trust: TrustStore }> {
  const authority = await Authority.open(pkiDir);
  return { authority, trust: new TrustStore(join(pkiDir, "trust.db")) };
}

/**
 * The shared CA and trust store of a PostgreSQL database: made by the first
 * collector (its key sealed with `caKey`), loaded by the others. The key is
 * read before connecting, so a missing or too-open key file fails first.
 */
export async function openPgTrust(location: PgTrustLocation, options: { watch?: boolean; onError?: (message: string) => void } = {}): Promise<{ authority: Authority; trust: PgTrustStore }> {
  const key = readCaKey(location.caKey);
  const trust = await PgTrustStore.open(location.db, { ...location.password, watch: options.watch, onError: options.onError });
  try {
    return { authority: await trust.authority(key, location.serverNames), trust };
  } catch (error) {
    await trust.close();
    throw error;
  }
}

export async function collectorSecurity(options: {
  insecure: boolean;
  pkiDir: string;
  /** Trust in a shared PostgreSQL database instead of pki/ (then pkiDir is unused). */
  postgres?: PgTrustLocation;
  certificateLifetimeMs?: number;
  log: Logger;
}): Promise<CollectorSecurity> {
  if (options.insecure) {
    return { auth: insecureAuth, credentials: grpc.ServerCredentials.createInsecure(), register: () => {}, prune: () => ({ tokens: 0, certificates: 0 }), close: () => {} };
  }
  const log = options.log;
  const { authority, trust }: { authority: Authority; trust: TrustRecords & CertificateLookup } = options.postgres
    ? await openPgTrust(options.postgres, { watch: true, onError: (message) => log.warn("trust store", { error: message }) })
    : await openTrust(options.pkiDir);
  const auth = certificateAuth(trust);
  return {
    auth,
    credentials: collectorServerCredentials(authority),
    register(server, reject) {
      addService(server, EnrollService, enrollHandlers({ authority, trust, auth, lifetimeMs: options.certificateLifetimeMs ?? DEFAULT_CERTIFICATE_LIFETIME_MS, log: options.log, reject }));
    },
    prune() {
      const removed = trust.prune();
      if (!(removed instanceof Promise)) return removed;
      removed.then(
        (counts) => counts.tokens + counts.certificates > 0 && log.info("pruned trust store", counts),
        (error: Error) => log.error("pruning the trust store failed", { error: error.message }),
      );
      return { tokens: 0, certificates: 0 };
    },
    close() {
      auth.stop();
      return trust.close();
    },
  };
}
