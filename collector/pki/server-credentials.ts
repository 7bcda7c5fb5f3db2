// TLS for the collector's gRPC port: the collector's certificate, and client
// certificates requested and verified against the fleet CA but not required by
// the handshake, because Enroll is the one call a peer makes before it has one.
// Every other handler demands a verified certificate (peer-auth.ts).
import * as grpc from "@grpc/grpc-js";
import type { Authority } from "./authority.ts";

type CertificateProvider = Parameters<typeof grpc.experimental.createCertificateProviderServerCredentials>[0];

/** grpc-js registers its watcher only after adding these listeners: answer on the next turn, as its file watcher does. */
function staticProvider(update: { caCertificate?: Buffer; certificate?: Buffer; privateKey?: Buffer }): CertificateProvider {
  return {
    addCaCertificateListener: (listener) => setImmediate(() => listener(update.caCertificate ? { caCertificate: update.caCertificate } : null)),
    removeCaCertificateListener: () => {},
    addIdentityCertificateListener: (listener) =>
      setImmediate(() => listener(update.certificate && update.privateKey ? { certificate: update.certificate, privateKey: update.privateKey } : null)),
    removeIdentityCertificateListener: () => {},
  };
}

export function collectorServerCredentials(authority: Authority): grpc.ServerCredentials {
  const identity = staticProvider({ certificate: Buffer.from(authority.serverCertPem + authority.caPem), privateKey: Buffer.from(authority.serverKeyPem) });
  const ca = staticProvider({ caCertificate: Buffer.from(authority.caPem) });
  return grpc.experimental.createCertificateProviderServerCredentials(identity, ca, false);
}
