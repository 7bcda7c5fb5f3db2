// Every reason the collector gives for refusing agent input, in one table: the
// values of `clawfleet_collector_rejected_total{reason}`, so a dashboard or an
// alert rule can rely on the set, and no code path invents its own spelling.
export const REJECT_REASONS = {
  noHello: "no_hello",
  duplicateHello: "duplicate_hello",
  reportBeforeHello: "report_before_hello",
  emptyMessage: "empty_message",
  invalidNodeId: "invalid_node_id",
  invalidHello: "invalid_hello",
  invalidReport: "invalid_report",
  invalidTimestamp: "invalid_timestamp",
  /** A report far above what the collector acknowledged: adopting it would poison the node's sequence. */
  seqOutOfWindow: "seq_out_of_window",
  /** Bytes that are no valid protobuf message (e.g. a string that is not UTF-8). */
  undecodable: "undecodable",
  newNodeRate: "new_node_rate",
  helloRate: "hello_rate",
  streamsPerPeer: "streams_per_peer",
  streamsPerNode: "streams_per_node",
  reportRate: "report_rate",
  /** mTLS (collector/pki/peer-auth.ts): who the peer is, and whether it may make this call. */
  noCertificate: "no_certificate",
  wrongRole: "wrong_role",
  unknownCertificate: "unknown_certificate",
  revoked: "revoked",
  expired: "expired",
  /** A hello naming another node than the certificate's. */
  identityMismatch: "identity_mismatch",
  /** Enrollment (collector/pki/enroll-service.ts). */
  invalidToken: "invalid_token",
  unknownToken: "unknown_token",
  tokenExpired: "token_expired",
  tokenUsed: "token_used",
  invalidCsr: "invalid_csr",
  enrollRate: "enroll_rate",
  /** Several collectors on one PostgreSQL: another live collector holds the node's stream (UNAVAILABLE, so the agent tries elsewhere). */
  leaseHeld: "lease_held",
  /** A query with a field out of bounds (glob, node id, filter or limit too long or too large). */
  invalidQuery: "invalid_query",
} as const;

export type RejectReason = (typeof REJECT_REASONS)[keyof typeof REJECT_REASONS];
