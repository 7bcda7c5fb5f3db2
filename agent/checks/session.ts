// Session layer: does the gateway accept the token a client in this shell
// would send? Every other token source (service env, the live process) is
// tried too, once per distinct value, so the report says which one the gateway
// accepts, by fingerprint.
import { passed, problem, skipped, type Finding } from "../../shared/finding.ts";
import type { Code } from "../../shared/taxonomy.ts";
import type { HandshakeResult } from "../probes/gateway-handshake.ts";
import { loopbackOpen } from "../observations/host-gateway.ts";
import { anonymousHandshake, tokenProbes } from "../observations/token-handshakes.ts";
import type { Check } from "./check.ts";

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

export function codeForRejection(result: HandshakeResult): Code {
  const mapped = result.detailCode ? REJECTION_CODES[result.detailCode] : undefined;
  if (mapped) return mapped;
  // Older gateways send only the close reason text.
  const message = result.message ?? "";
  if (message.includes("too many failed authentication attempts")) return "rate_limited";
  if (message.includes("device identity required")) return "device_identity_required";
  if (message.includes("token missing")) return "token_missing";
  return "token_mismatch";
}

export const sessionCheck: Check = {
  name: "session",
  layer: "session",
  // Above loopback (1.5 s) then the token probes (7 s, a wrong token waits out the gateway's auth delay).
  deadlineMs: 9000,
  observes: [loopbackOpen, tokenProbes, anonymousHandshake],
  async run(ctx): Promise<Finding[]> {
    const { world } = ctx;
    const client = world.clientToken;
    const base = { configPath: world.config.path, port: String(world.port) };
    if (!(await ctx.observe(loopbackOpen))) {
      return [skipped("session", "session", "Token not tested: the gateway does not answer on loopback.", base)];
    }
    const outcomes = await ctx.observe(tokenProbes);
    const evidence: Record<string, string> = { ...base, source: client?.source ?? "none" };
    const accepted = outcomes.filter((o) => o.result.outcome === "accepted");
    const rejected = outcomes.filter((o) => o.result.outcome === "rejected");
    const describe = (list: typeof outcomes) => list.map((o) => `${ctx.fingerprint(o.value)} from ${o.sources.map((s) => s.source).join(" + ")}`).join("; ");
    if (accepted.length > 0) evidence.acceptedTokens = describe(accepted);
    if (rejected.length > 0) evidence.rejectedTokens = describe(rejected);

    if (client?.unresolved) {
      return [problem("session", "token_missing", `The client token from ${client.source} does not resolve: ${client.unresolved}.`, { ...evidence, source: client.source })];
    }
    if (client && client.value === "") {
      return [problem("session", "token_empty", `${client.source} is set but empty.`, { ...evidence, source: client.source })];
    }
    const token = client?.value;
    if (token !== undefined) evidence.fingerprint = ctx.fingerprint(token);
    const result = token === undefined ? await ctx.observe(anonymousHandshake) : outcomes.find((o) => o.value === token)!.result;
    if (result.serverVersion) evidence.gatewayVersion = result.serverVersion;
    if (result.remembered) evidence.remembered = "rejected by this gateway process earlier; not re-sent";

    if (result.outcome === "accepted") {
      const how = token === undefined ? "without a token (auth is off)" : `with the token from ${client!.source} (${evidence.fingerprint})`;
      return [passed("session", "session", `Gateway accepts a client ${how}.`, evidence)];
    }
    if (result.outcome !== "rejected") {
      return [skipped("session", "session", `Token not tested: the handshake with 127.0.0.1:${world.port} did not complete (${result.outcome}).`, evidence)];
    }
    if (result.detailCode) evidence.gatewayReason = result.detailCode;
    if (token === undefined) {
      const code = result.detailCode === "DEVICE_IDENTITY_REQUIRED" ? "token_missing" : codeForRejection(result);
      const hint = accepted.length > 0 ? ` The gateway does accept ${describe(accepted)}.` : "";
      return [problem("session", code, `No client token is configured (config gateway.auth.token, OPENCLAW_GATEWAY_TOKEN, gateway.remote.token) and the gateway refuses clients without one.${hint}`, evidence)];
    }
    const hint = accepted.length > 0 ? ` It accepts ${describe(accepted)} instead.` : "";
    return [problem("session", codeForRejection(result), `Gateway rejects the token from ${client!.source} (${evidence.fingerprint}): ${result.message ?? result.detailCode ?? "rejected"}.${hint}`, evidence)];
  },
};
