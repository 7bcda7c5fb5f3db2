// Session layer: does the gateway accept the token a client in this shell
// would send? Proven with the real WebSocket handshake on loopback.
import { passed, problem, skipped, type Finding } from "../../shared/finding.ts";
import type { Code } from "../../shared/taxonomy.ts";
import type { Check } from "./check.ts";
import { loopbackHandshake, loopbackOpen } from "./observations.ts";

/** The gateway's connect error detail codes (openclaw ConnectErrorDetailCodes) → ours. */
const REJECTION_CODES: Record<string, Code> = {
  AUTH_TOKEN_MISMATCH: "token_mismatch",
  AUTH_UNAUTHORIZED: "token_mismatch",
  AUTH_DEVICE_TOKEN_MISMATCH: "token_mismatch",
  AUTH_TOKEN_MISSING: "token_missing",
  AUTH_REQUIRED: "token_missing",
  AUTH_TOKEN_NOT_CONFIGURED: "token_missing",
  AUTH_RATE_LIMITED: "rate_limited",
  DEVICE_IDENTITY_REQUIRED: "device_identity_required",
  PAIRING_REQUIRED: "device_identity_required",
};

function codeForRejection(detailCode: string | undefined, message: string | undefined): Code {
  if (detailCode && REJECTION_CODES[detailCode]) return REJECTION_CODES[detailCode];
  // Older gateways send only the close reason text.
  if (message?.includes("too many failed authentication attempts")) return "rate_limited";
  if (message?.includes("device identity required")) return "device_identity_required";
  if (message?.includes("token missing")) return "token_missing";
  return "token_mismatch";
}

export const sessionCheck: Check = {
  name: "session",
  layer: "session",
  // A wrong token is answered only after the gateway's growing auth delay (up to 5 s).
  deadlineMs: 7000,
  async run(ctx): Promise<Finding[]> {
    const { world } = ctx;
    const client = world.clientToken;
    const base = { configPath: world.config.path, port: String(world.port) };
    if (!(await loopbackOpen(ctx))) {
      return [skipped("session", "session", "Token not tested: the gateway does not answer on loopback.", base)];
    }
    if (client?.unresolved) {
      return [problem("session", "token_missing", `The client token from ${client.source} does not resolve: ${client.unresolved}.`, { ...base, source: client.source })];
    }
    if (client && client.value === "") {
      return [problem("session", "token_empty", `${client.source} is set but empty.`, { ...base, source: client.source })];
    }
    const token = client?.value;
    const evidence: Record<string, string> = { ...base, source: client?.source ?? "none" };
    if (token !== undefined) evidence.fingerprint = ctx.fingerprint(token);

    const result = await loopbackHandshake(ctx, token);
    if (result.serverVersion) evidence.gatewayVersion = result.serverVersion;
    if (result.outcome === "accepted") {
      const how = token === undefined ? "without a token (auth is off)" : `with the token from ${client!.source} (${evidence.fingerprint})`;
      return [passed("session", "session", `Gateway accepts a client ${how}.`, evidence)];
    }
    if (result.outcome !== "rejected") {
      return [skipped("session", "session", `Token not tested: the handshake with 127.0.0.1:${world.port} did not complete (${result.outcome}).`, evidence)];
    }
    const code = token === undefined && result.detailCode === "DEVICE_IDENTITY_REQUIRED" ? "token_missing" : codeForRejection(result.detailCode, result.message);
    if (result.detailCode) evidence.gatewayReason = result.detailCode;
    const summary = token === undefined
      ? `No client token is configured (config gateway.auth.token, OPENCLAW_GATEWAY_TOKEN, gateway.remote.token) and the gateway refuses clients without one.`
      : `Gateway rejects the token from ${client!.source} (${evidence.fingerprint}): ${result.message ?? result.detailCode ?? "rejected"}.`;
    return [problem("session", code, summary, evidence)];
  },
};
