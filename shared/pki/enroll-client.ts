// The enrolling side, for agents and operators alike: check that the collector
// at ADDR holds the CA the token pins (before sending it anything), make a key
// here, send only a CSR, and keep the certificate. Renewal does the same over
// the current certificate.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { createHash, X509Certificate } from "node:crypto";
import { connect, type DetailedPeerCertificate } from "node:tls";
import { EnrollRequestSchema, EnrollService, RenewRequestSchema, type IssuedCertificate } from "../gen/clawfleet/v1/enroll_pb.ts";
import { createClient, type MethodsOf, type ServiceClient } from "../grpc-adapter.ts";
import { createCsr, newKeyPair, privateKeyPem } from "./x509.ts";
import { COLLECTOR_CHANNEL_OPTIONS, COLLECTOR_NAME, collectorCredentials } from "./collector-channel.ts";
import { writeIdentity, type StoredIdentity } from "./identity-files.ts";
import { parseEnrollmentToken } from "./enrollment-token.ts";

const CALL_TIMEOUT_MS = 15_000;

export class EnrollError extends Error {}

/** Connects without trusting anyone yet and returns the CA certificate whose hash is `pin`, or throws. */
export function fetchPinnedCa(host: string, port: number, pin: string, timeoutMs = CALL_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, servername: COLLECTOR_NAME, rejectUnauthorized: false, ALPNProtocols: ["h2"] });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new EnrollError(`no TLS answer from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(new EnrollError(`cannot reach the collector at ${host}:${port}: ${error.message}`));
    });
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const leaf = socket.getPeerCertificate(true);
      socket.destroy();
      const chain: DetailedPeerCertificate[] = [];
      for (let c: DetailedPeerCertificate | undefined = leaf; c?.raw && !chain.includes(c); c = c.issuerCertificate) chain.push(c);
      const ca = chain.find((c) => createHash("sha256").update(c.raw).digest("base64url") === pin);
      if (!ca || !leaf.raw) {
        reject(new EnrollError(`the collector at ${host}:${port} does not hold the CA this token was made for: wrong address, or someone else answering there`));
        return;
      }
      const caCertificate = new X509Certificate(ca.raw);
      if (!new X509Certificate(leaf.raw).verify(caCertificate.publicKey)) {
        reject(new EnrollError(`the collector at ${host}:${port} shows the fleet CA but a certificate it did not sign`));
        return;
      }
      resolve(caCertificate.toString());
    });
  });
}

async function request(address: string, credentials: grpc.ChannelCredentials, call: (client: ServiceClient<MethodsOf<typeof EnrollService>>) => Promise<{ issued?: IssuedCertificate }>): Promise<IssuedCertificate> {
  const client = createClient(EnrollService, address, credentials, COLLECTOR_CHANNEL_OPTIONS);
  try {
    const response = await call(client);
    if (!response.issued) throw new EnrollError("the collector answered without a certificate");
    return response.issued;
  } catch (error) {
    const e = error as grpc.ServiceError;
    if (typeof e.code === "number") throw new EnrollError(`the collector at ${address} refused: ${e.details || e.message}`);
    throw error;
  } finally {
    client.close();
  }
}

/** `recordAs`: what `agent run` reads back as its collectors (default: `address`), e.g. the whole list the operator gave. */
export async function enroll(options: { address: string; host: string; port: number; token: string; dir: string; recordAs?: string }): Promise<IssuedCertificate> {
  const token = parseEnrollmentToken(options.token);
  if (!token) throw new EnrollError("--token is not an enrollment token: copy the whole line `clawfleet collector enroll NODE` printed (cfenroll1.…)");
  const caPem = await fetchPinnedCa(options.host, options.port, token.caPin);
  const keys = await newKeyPair();
  const csrDer = await createCsr("enrollment", keys);
  const issued = await request(options.address, grpc.credentials.createSsl(Buffer.from(caPem)), (client) =>
    client.enroll(create(EnrollRequestSchema, { token: token.secret, csrDer }), { deadline: Date.now() + CALL_TIMEOUT_MS }),
  );
  writeIdentity(options.dir, { keyPem: await privateKeyPem(keys.privateKey), certificatePem: issued.certificatePem, caPem, collector: options.recordAs ?? options.address });
  return issued;
}

/**
 * A new key and certificate for the same identity, written over the old only
 * once issued. `addresses`: the fleet's collectors to ask, in turn (default:
 * the one enrolled with); the collector recorded at enrollment stays recorded.
 */
export async function renew(identity: StoredIdentity, dir: string, addresses: readonly string[] = [identity.collector]): Promise<IssuedCertificate> {
  if (addresses.length === 0) throw new EnrollError("no collector known yet to renew with");
  const keys = await newKeyPair();
  const csrDer = await createCsr(identity.name, keys);
  let issued: IssuedCertificate | undefined;
  const failures: string[] = [];
  for (const address of addresses) {
    try {
      issued = await request(address, collectorCredentials(identity), (client) =>
        client.renew(create(RenewRequestSchema, { csrDer }), { deadline: Date.now() + CALL_TIMEOUT_MS }),
      );
      break;
    } catch (error) {
      if (!(error instanceof EnrollError)) throw error;
      failures.push(error.message);
    }
  }
  if (!issued) throw new EnrollError(failures.join("; "));
  writeIdentity(dir, { keyPem: await privateKeyPem(keys.privateKey), certificatePem: issued.certificatePem, caPem: identity.caPem, collector: identity.collector });
  return issued;
}
