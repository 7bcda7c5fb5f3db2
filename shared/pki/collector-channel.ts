// How every mTLS client reaches the collector: the fleet CA as the only root,
// its own key and certificate, and the collector checked by its fleet name
// rather than by a hostname that NAT or a tailnet may change. Light on
// purpose: queries and `agent run` load this, not the certificate builder.
import * as grpc from "@grpc/grpc-js";

/** The name every collector certificate carries. */
export const COLLECTOR_NAME = "collector.clawfleet";

export const COLLECTOR_CHANNEL_OPTIONS = { "grpc.ssl_target_name_override": COLLECTOR_NAME } as const;

export function collectorCredentials(identity: { caPem: string; keyPem: string; certificatePem: string }): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(Buffer.from(identity.caPem), Buffer.from(identity.keyPem), Buffer.from(identity.certificatePem));
}
