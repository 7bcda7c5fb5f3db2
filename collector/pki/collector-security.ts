// The collector's side of trust, assembled: CA and server certificate, the
// trust store, certificate checks for every call, and the Enroll service.
// `--insecure` gets none of it and may only listen on loopback.
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

export const DEFAULT_CERTIFICATE_LIFETIME_MS = 30 * 86_400_000;

export interface CollectorSecurity {
  auth: PeerAuth;
  credentials: grpc.ServerCredentials;
  /** Adds EnrollService (secure mode only). */
  register(server: grpc.Server, reject: (reason: string) => void): void;
  /** Drops expired tokens and certificates; runs with the store's history pruning. */
  prune(): { tokens: number; certificates: number };
  close(): void;
}

/** The PKI lives beside the store, in its own directory (0700). */
export const pkiDirFor = (dbDir: string) => join(dbDir, "pki");

export async function openTrust(pkiDir: string): Promise<{ authority: Authority; trust: TrustStore }> {
  const authority = await Authority.open(pkiDir);
  return { authority, trust: new TrustStore(join(pkiDir, "trust.db")) };
}

export async function collectorSecurity(options: { insecure: boolean; pkiDir: string; certificateLifetimeMs?: number; log: Logger }): Promise<CollectorSecurity> {
  if (options.insecure) {
    return { auth: insecureAuth, credentials: grpc.ServerCredentials.createInsecure(), register: () => {}, prune: () => ({ tokens: 0, certificates: 0 }), close: () => {} };
  }
  const { authority, trust } = await openTrust(options.pkiDir);
  const auth = certificateAuth(trust);
  return {
    auth,
    credentials: collectorServerCredentials(authority),
    register(server, reject) {
      addService(server, EnrollService, enrollHandlers({ authority, trust, auth, lifetimeMs: options.certificateLifetimeMs ?? DEFAULT_CERTIFICATE_LIFETIME_MS, log: options.log, reject }));
    },
    prune: () => trust.prune(),
    close() {
      auth.stop();
      trust.close();
    },
  };
}
