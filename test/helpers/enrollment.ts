// Enrolls a test identity the way an operator does: a token made in the
// collector's trust store (what `collector enroll` does), redeemed over real
// TLS by the real enrollment client (what `agent enroll` does).
import type * as grpc from "@grpc/grpc-js";
import { parseAddress } from "../../shared/cli.ts";
import { openTrust } from "../../collector/pki/collector-security.ts";
import { newEnrollmentToken } from "../../shared/pki/enrollment-token.ts";
import { enroll } from "../../shared/pki/enroll-client.ts";
import { readIdentity, type StoredIdentity } from "../../shared/pki/identity-files.ts";
import { collectorCredentials, COLLECTOR_CHANNEL_OPTIONS } from "../../shared/pki/collector-channel.ts";
import type { Role } from "../../shared/pki/x509.ts";

/** A token for `name`, as `clawfleet collector enroll` prints it. */
export async function enrollmentToken(pkiDir: string, name: string, role: Role = "node", ttlMs = 60_000): Promise<string> {
  const { authority, trust } = await openTrust(pkiDir);
  const { token, secret } = newEnrollmentToken(authority.pin);
  trust.addEnrollment(secret, { name, role, expiresMs: Date.now() + ttlMs });
  trust.close();
  return token;
}

export async function enrollIdentity(options: { pkiDir: string; address: string; name: string; role?: Role; dir: string }): Promise<StoredIdentity> {
  const token = await enrollmentToken(options.pkiDir, options.name, options.role);
  const { host, port } = parseAddress("collector", options.address);
  await enroll({ address: options.address, host, port, token, dir: options.dir });
  return readIdentity(options.dir)!;
}

export function channelFor(identity: StoredIdentity): { credentials: grpc.ChannelCredentials; options: grpc.ClientOptions } {
  return { credentials: collectorCredentials(identity), options: COLLECTOR_CHANNEL_OPTIONS };
}
