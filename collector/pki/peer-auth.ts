// Who is on the other end of a gRPC call. With mTLS the client certificate is
// the identity: its CN is the node id or operator name, its OU the role, and
// the trust store says whether it is still good. A stream is tracked for as
// long as it is open, so a revocation or an expiry ends it at once.
import * as grpc from "@grpc/grpc-js";
import type { PeerCertificate } from "node:tls";
import type { Role } from "../../shared/pki/x509.ts";
import { normalizeSerial } from "./authority.ts";
import type { CertificateLookup } from "./trust-records.ts";
import type { RejectReason } from "../ingest/reject-reasons.ts";

export interface PeerIdentity {
  name: string;
  role: Role;
  serial: string;
  notAfterMs: number;
}

/** Every way a peer can fail authentication: its gRPC status and what it is counted as. */
export const AUTH_REFUSALS = {
  no_certificate: { code: grpc.status.UNAUTHENTICATED, text: "a client certificate from this collector's CA is required (enroll with `clawfleet agent enroll`, or `clawfleet collector login` for queries)" },
  wrong_role: { code: grpc.status.PERMISSION_DENIED, text: "this certificate's role may not call this service" },
  unknown_certificate: { code: grpc.status.PERMISSION_DENIED, text: "this certificate is not in the collector's records" },
  revoked: { code: grpc.status.PERMISSION_DENIED, text: "this certificate was revoked (`clawfleet collector revoke`); enroll again with a new token" },
  expired: { code: grpc.status.UNAUTHENTICATED, text: "this certificate expired; enroll again with a new token" },
  identity_mismatch: { code: grpc.status.PERMISSION_DENIED, text: "the node id does not match the certificate's identity" },
} as const satisfies Partial<Record<RejectReason, { code: grpc.status; text: string }>>;
export type AuthRefusal = keyof typeof AUTH_REFUSALS;

export type AuthOutcome = { ok: true; identity?: PeerIdentity } | { ok: false; reason: AuthRefusal; detail: string };

interface CallWithAuth {
  getAuthContext(): { sslPeerCertificate?: PeerCertificate } | null;
}

export interface PeerAuth {
  /** False only for `--insecure`: then every peer is anyone. */
  readonly secure: boolean;
  authenticate(call: CallWithAuth, roles: readonly Role[]): AuthOutcome;
  /** Registers a live stream; `end` is called if its certificate is revoked or expires. Returns the unregister. */
  track(identity: PeerIdentity, end: (reason: AuthRefusal) => void): () => void;
  stop(): void;
}

export function refusalStatus(reason: AuthRefusal, detail = ""): grpc.StatusObject {
  const { code, text } = AUTH_REFUSALS[reason];
  return { code, details: detail ? `${text} (${detail})` : text, metadata: new grpc.Metadata() };
}

export const insecureAuth: PeerAuth = {
  secure: false,
  authenticate: () => ({ ok: true }),
  track: () => () => {},
  stop: () => {},
};

const SWEEP_INTERVAL_MS = 1000;

export function certificateAuth(trust: CertificateLookup): PeerAuth {
  let revoked = trust.revokedSerials();
  trust.changedElsewhere();
  const live = new Map<number, { identity: PeerIdentity; end: (reason: AuthRefusal) => void }>();
  let nextId = 1;

  const sweep = () => {
    if (trust.changedElsewhere()) revoked = trust.revokedSerials();
    const now = Date.now();
    for (const [id, stream] of live) {
      const reason = revoked.has(stream.identity.serial) ? "revoked" : now >= stream.identity.notAfterMs ? "expired" : undefined;
      if (!reason) continue;
      live.delete(id);
      stream.end(reason);
    }
  };
  const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
  timer.unref();
  // A store that learns of revocations by itself (the shared PostgreSQL one) ends the streams as it does.
  const unsubscribe = trust.onChange?.(sweep);

  return {
    secure: true,
    authenticate(call, roles) {
      const certificate = call.getAuthContext()?.sslPeerCertificate;
      if (!certificate?.subject) return { ok: false, reason: "no_certificate", detail: "" };
      const role = certificate.subject.OU as Role;
      const name = String(certificate.subject.CN ?? "");
      if (!roles.includes(role)) return { ok: false, reason: "wrong_role", detail: `${role || "none"} certificate "${name.slice(0, 63)}"` };
      const serial = normalizeSerial(certificate.serialNumber);
      if (revoked.has(serial)) return { ok: false, reason: "revoked", detail: name };
      const row = trust.certificate(serial);
      if (!row || row.name !== name || row.role !== role) return { ok: false, reason: "unknown_certificate", detail: name };
      if (row.revokedMs !== undefined) {
        revoked.add(serial);
        return { ok: false, reason: "revoked", detail: name };
      }
      if (Date.now() >= row.notAfterMs) return { ok: false, reason: "expired", detail: name };
      return { ok: true, identity: { name, role, serial, notAfterMs: row.notAfterMs } };
    },
    track(identity, end) {
      const id = nextId++;
      live.set(id, { identity, end });
      return () => live.delete(id);
    },
    stop() {
      clearInterval(timer);
      unsubscribe?.();
    },
  };
}

type UnaryHandler = (call: CallWithAuth, callback: (error: grpc.StatusObject | null) => void) => void;

/** Wraps every unary handler of a service so only `roles` may call it. */
export function requireRole<H extends object>(handlers: H, auth: PeerAuth, roles: readonly Role[], reject: (reason: string) => void): H {
  if (!auth.secure) return handlers;
  const guarded: Record<string, UnaryHandler> = {};
  for (const [name, handler] of Object.entries(handlers) as [string, UnaryHandler][]) {
    guarded[name] = (call, callback) => {
      const outcome = auth.authenticate(call, roles);
      if (!outcome.ok) {
        reject(outcome.reason);
        callback(refusalStatus(outcome.reason, outcome.detail));
        return;
      }
      handler(call, callback);
    };
  }
  return guarded as H;
}
