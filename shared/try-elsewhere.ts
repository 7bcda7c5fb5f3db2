// The one refusal that tells an agent "not here, try another collector of this
// fleet". Several collectors share one store and each node's stream is held by
// one of them at a time; a collector that does not hold the node (or is
// draining before a shutdown) ends the Connect stream with this status, and the
// agent moves on to the next collector at once instead of waiting out its
// backoff. Both sides use these functions, so the contract lives here alone:
//   status   UNAVAILABLE (transient: the same request succeeds elsewhere, or later)
//   trailer  clawfleet-try-elsewhere: <reason>   (a reason below; unknown values are honoured too)
// UNAVAILABLE alone is also what a dead connection looks like; the trailer is
// what says a collector answered and sent the agent away.
import * as grpc from "@grpc/grpc-js";

export const TRY_ELSEWHERE_TRAILER = "clawfleet-try-elsewhere";

export const TRY_ELSEWHERE_REASONS = {
  /** Another collector holds this node's stream (its lease or lock is live). */
  nodeHeld: "node-held",
  /** This collector is shutting down and takes no new streams. */
  draining: "draining",
} as const;

export type TryElsewhereReason = (typeof TRY_ELSEWHERE_REASONS)[keyof typeof TRY_ELSEWHERE_REASONS];

/** What a collector emits on the stream (`stream.emit("error", tryElsewhereStatus(…))`). */
export function tryElsewhereStatus(reason: TryElsewhereReason, details: string): Partial<grpc.ServiceError> & { code: grpc.status; details: string; metadata: grpc.Metadata } {
  const metadata = new grpc.Metadata();
  metadata.set(TRY_ELSEWHERE_TRAILER, reason);
  return { code: grpc.status.UNAVAILABLE, details, metadata };
}

/** The reason a stream's error sends the agent elsewhere, or undefined for any other failure. */
export function tryElsewhereReason(error: Pick<grpc.ServiceError, "code" | "metadata">): string | undefined {
  if (error.code !== grpc.status.UNAVAILABLE || !error.metadata) return undefined;
  const value = error.metadata.get(TRY_ELSEWHERE_TRAILER)[0];
  return value === undefined ? undefined : String(value).slice(0, 40) || "unspecified";
}
