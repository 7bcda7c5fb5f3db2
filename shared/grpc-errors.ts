import type { ServiceError } from "@grpc/grpc-js";

/** grpc-js's UNAVAILABLE text ("No connection established. Last error: …") cut to its cause. */
export function describeGrpcError(error: ServiceError): string {
  const text = error.details || error.message;
  const cause = /connect (E[A-Z]+) (\S+?)\.?(\s|$)/.exec(text);
  if (cause) return `${cause[1] === "ECONNREFUSED" ? "connection refused" : cause[1]} (${cause[2]})`;
  if (/DEADLINE_EXCEEDED|Deadline exceeded/i.test(text)) return "no answer before the deadline";
  return text.replace(/\s*Resolution note:\s*$/, "");
}
