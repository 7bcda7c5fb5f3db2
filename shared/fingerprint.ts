// Secrets are only ever shown or sent as fingerprints.
import { createHash, createHmac } from "node:crypto";

/**
 * Local fingerprint, for people at the host: the first 12 hex digits of the
 * secret's SHA-256, which an operator can reproduce with
 * `printf %s "$TOKEN" | shasum -a 256`, and which reveals nothing of it.
 */
export function localFingerprint(secret: string): string {
  return `sha256:${createHash("sha256").update(secret, "utf8").digest("hex").slice(0, 12)}`;
}

/**
 * Wire fingerprint: an HMAC with the fleet key the collector issued, so the
 * collector can see the same secret on two nodes without a dictionary of
 * known-token hashes being any use to whoever reads its database.
 */
export function keyedFingerprint(secret: string, key: Uint8Array): string {
  return `hmac:${createHmac("sha256", key).update(secret, "utf8").digest("hex").slice(0, 16)}`;
}

export type Fingerprinter = (secret: string) => string;

/** A value shaped like one of the fingerprints above (anything else in a fingerprint slot may be a secret). */
export function isFingerprint(value: string): boolean {
  return /^(?:sha256|hmac):[0-9a-f]{8,64}$/.test(value);
}

export function fingerprinter(key?: Uint8Array): Fingerprinter {
  return key && key.length > 0 ? (secret) => keyedFingerprint(secret, key) : localFingerprint;
}
