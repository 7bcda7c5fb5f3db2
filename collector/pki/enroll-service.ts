// EnrollService: a one-time token buys a certificate for the identity the
// operator named when making the token; a valid certificate buys its renewal.
// The CSR's key never leaves the host; its subject is ignored.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { EnrollResponseSchema, IssuedCertificateSchema, RenewResponseSchema, type EnrollService } from "../../shared/gen/clawfleet/v1/enroll_pb.ts";
import type { MethodsOf, ServiceHandlers } from "../../shared/grpc-adapter.ts";
import type { Logger } from "../../shared/log.ts";
import { readCsr, type Role } from "../../shared/pki/x509.ts";
import type { Authority, Issued } from "./authority.ts";
import { refusalStatus, type AuthRefusal, type PeerAuth } from "./peer-auth.ts";
import type { TrustRecords } from "./trust-records.ts";
import { PgStoreError } from "../state/pg-connection.ts";
import { ENROLLMENT_SECRET } from "../../shared/pki/enrollment-token.ts";
import { REJECT_REASONS, type RejectReason } from "../ingest/reject-reasons.ts";
import { peerAddress } from "../ingest/limits.ts";
import { KeyedBuckets } from "../../shared/token-bucket.ts";

/** A P-256 CSR is ~250 bytes; anything near this is not one. */
const MAX_CSR_BYTES = 4096;
/** Unauthenticated Enroll calls per peer address: tokens cannot be guessed, but the CA's signing work is not free. */
const ENROLL_BURST = 10;
const ENROLL_REFILL_PER_S = 0.2;
/** Renewals per certificate identity: an agent renews once per two thirds of a lifetime, so a few suffice. */
const RENEW_BURST = 5;
const RENEW_REFILL_PER_S = 1 / 60;
const MAX_TRACKED_PEERS = 10_000;

export interface EnrollDeps {
  authority: Authority;
  trust: TrustRecords;
  auth: PeerAuth;
  lifetimeMs: number;
  log: Logger;
  /** Counts a refusal in clawfleet_collector_rejected_total{reason}. */
  reject(reason: RejectReason): void;
}

export function enrollHandlers(deps: EnrollDeps): ServiceHandlers<MethodsOf<typeof EnrollService>> {
  const enrollments = new KeyedBuckets(ENROLL_BURST, ENROLL_REFILL_PER_S, MAX_TRACKED_PEERS);
  const renewals = new KeyedBuckets(RENEW_BURST, RENEW_REFILL_PER_S, MAX_TRACKED_PEERS);

  const issue = async (csr: Uint8Array, name: string, role: Role): Promise<Issued> => {
    const issued = await deps.authority.issue(csr, name, role, deps.lifetimeMs);
    // Recorded before the answer: whichever collector the peer calls next knows the certificate.
    await deps.trust.recordCertificate({ serial: issued.serial, name, role, issuedMs: Date.now(), notAfterMs: issued.notAfterMs });
    return issued;
  };
  const wire = (issued: Issued, name: string, role: Role) =>
    create(IssuedCertificateSchema, { certificatePem: issued.certificatePem, caPem: deps.authority.caPem, name, role, notAfterUnixMs: BigInt(issued.notAfterMs) });
  const invalid = (reason: RejectReason, details: string): grpc.StatusObject => {
    deps.reject(reason);
    return { code: grpc.status.INVALID_ARGUMENT, details, metadata: new grpc.Metadata() };
  };

  return {
    async enroll(call, callback) {
      const peer = call.getPeer();
      if (!enrollments.take(peerAddress(peer), Date.now())) {
        deps.reject(REJECT_REASONS.enrollRate);
        callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: "too many enrollment attempts from this address; wait a minute" });
        return;
      }
      // The enrolling host sends the token's secret only; the CA pin is for its own check.
      const secret = ENROLLMENT_SECRET.test(call.request.token) ? call.request.token : undefined;
      if (!secret) return callback(invalid(REJECT_REASONS.invalidToken, "token: not an enrollment token (expected what `clawfleet collector enroll` printed)"));
      if (call.request.csrDer.length > MAX_CSR_BYTES) return callback(invalid(REJECT_REASONS.invalidCsr, `csr_der: larger than ${MAX_CSR_BYTES} bytes`));
      try {
        await readCsr(call.request.csrDer);
      } catch (error) {
        return callback(invalid(REJECT_REASONS.invalidCsr, (error as Error).message));
      }
      let redeemed: Awaited<ReturnType<TrustRecords["redeem"]>>;
      try {
        redeemed = await deps.trust.redeem(secret);
      } catch (error) {
        deps.log.error("enrollment failed: trust store unavailable", { peer, error: (error as Error).message });
        return callback({ code: grpc.status.UNAVAILABLE, details: "the collector cannot reach its trust store; retry shortly" });
      }
      if (typeof redeemed === "string") {
        deps.reject(redeemed);
        deps.log.warn("enrollment refused", { peer, reason: redeemed });
        callback({ code: grpc.status.PERMISSION_DENIED, details: "enrollment token refused: unknown, expired or already used; make a new one with `clawfleet collector enroll NODE`" });
        return;
      }
      let issued: Issued;
      try {
        issued = await issue(call.request.csrDer, redeemed.name, redeemed.role);
      } catch (error) {
        deps.log.error("enrollment failed after the token was used", { peer, name: redeemed.name, error: (error as Error).message });
        return callback({ code: grpc.status.UNAVAILABLE, details: "the collector could not record the certificate; make a new token with `clawfleet collector enroll NODE`" });
      }
      deps.log.info("enrolled", { name: redeemed.name, role: redeemed.role, serial: issued.serial, peer, notAfter: new Date(issued.notAfterMs).toISOString() });
      callback(null, create(EnrollResponseSchema, { issued: wire(issued, redeemed.name, redeemed.role) }));
    },
    async renew(call, callback) {
      const outcome = deps.auth.authenticate(call, ["node", "operator"]);
      if (!outcome.ok || !outcome.identity) {
        const reason: AuthRefusal = outcome.ok ? "no_certificate" : outcome.reason;
        deps.reject(reason);
        callback(refusalStatus(reason, outcome.ok ? "" : outcome.detail));
        return;
      }
      if (call.request.csrDer.length > MAX_CSR_BYTES) return callback(invalid(REJECT_REASONS.invalidCsr, `csr_der: larger than ${MAX_CSR_BYTES} bytes`));
      const { name, role } = outcome.identity;
      if (!renewals.take(`${role}/${name}`, Date.now())) {
        deps.reject(REJECT_REASONS.enrollRate);
        callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: "too many renewals for this certificate; wait a minute" });
        return;
      }
      let issued: Issued;
      try {
        issued = await issue(call.request.csrDer, name, role);
      } catch (error) {
        if (error instanceof PgStoreError) return callback({ code: grpc.status.UNAVAILABLE, details: "the collector cannot reach its trust store; retry shortly" });
        return callback(invalid(REJECT_REASONS.invalidCsr, (error as Error).message));
      }
      deps.log.info("renewed", { name, role, serial: issued.serial, previous: outcome.identity.serial });
      callback(null, create(RenewResponseSchema, { issued: wire(issued, name, role) }));
    },
  };
}
