// The enrollment token `clawfleet collector enroll` prints: a one-time secret
// and the pin of the collector's CA, so the enrolling host can tell the real
// collector from anyone else answering at that address before it trusts it.
//   cfenroll1.<secret: 32 random bytes, base64url>.<pin: SHA-256 of the CA certificate, base64url>
import { randomBytes } from "node:crypto";

const PREFIX = "cfenroll1";
const PATTERN = /^cfenroll1\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;
/** The secret part alone: what the enrolling host sends. */
export const ENROLLMENT_SECRET = /^[A-Za-z0-9_-]{43}$/;

export interface EnrollmentToken {
  secret: string;
  caPin: string;
}

export function newEnrollmentToken(caPin: string): { token: string; secret: string } {
  const secret = randomBytes(32).toString("base64url");
  return { token: `${PREFIX}.${secret}.${caPin}`, secret };
}

export function parseEnrollmentToken(text: string): EnrollmentToken | undefined {
  const match = PATTERN.exec(text.trim());
  return match ? { secret: match[1]!, caPin: match[2]! } : undefined;
}
