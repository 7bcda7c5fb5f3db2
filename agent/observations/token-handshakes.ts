// Handshakes with the loopback gateway: one per distinct token value any
// source holds (client, service, live process), and one without a token.
// The client's own token is its own observation, so a check that needs only
// it (tunnel, baseline) does not wait for the service definitions.
import { AGENT_VERSION } from "../../shared/version.ts";
import { allTokenSources, groupByValue, type TokenSourceEntry } from "../discovery/token-sources.ts";
import { gatewayHandshake, type HandshakeResult } from "../probes/gateway-handshake.ts";
import { serviceDiscovery } from "./gateway-services.ts";
import { portOwner } from "./host-gateway.ts";
import { observation, type ObservationContext } from "./observation.ts";
import { rememberedRejection, rememberRejection } from "./run-caches.ts";

export interface TokenProbe {
  value: string;
  sources: TokenSourceEntry[];
  result: HandshakeResult;
}

/**
 * A wrong token is answered only after the gateway's growing auth delay (up to
 * 5 s); a handshake still open after this is the fact "timeout", not a failed
 * observation.
 */
const HANDSHAKE_WAIT_MS = 6000;
const HANDSHAKE_DEADLINE_MS = 7000;

async function handshake(ctx: ObservationContext, token: string | undefined): Promise<HandshakeResult> {
  const owner = await ctx.observe(portOwner);
  const tokenKey = token === undefined ? "none" : ctx.fingerprint(token);
  const memoryKey = `${tokenKey}@${ctx.world.port}@${owner.pid ?? "?"}@${owner.gateway?.startedAtMs ?? "?"}`;
  const remembered = rememberedRejection(ctx.caches, memoryKey, Date.now());
  if (remembered) return { ...remembered, remembered: true };
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(HANDSHAKE_WAIT_MS)]);
  const result = await gatewayHandshake(`ws://127.0.0.1:${ctx.world.port}`, token, signal, AGENT_VERSION);
  if (result.outcome === "rejected" && owner.pid !== undefined) rememberRejection(ctx.caches, memoryKey, result, Date.now());
  return result;
}

/** The handshake with the token a client in this shell would send; undefined when it has none. */
export const clientHandshake = observation<HandshakeResult | undefined>("client-handshake", HANDSHAKE_DEADLINE_MS, [portOwner], async (ctx) => {
  const token = ctx.world.clientToken?.value;
  return token ? handshake(ctx, token) : undefined;
});

/** Every distinct token value tried once; each source's secret is noted by fingerprint. */
export const tokenProbes = observation<TokenProbe[]>("token-probes", HANDSHAKE_DEADLINE_MS, [serviceDiscovery, portOwner, clientHandshake], async (ctx) => {
  const [{ services }, owner] = await Promise.all([ctx.observe(serviceDiscovery), ctx.observe(portOwner)]);
  const sources = allTokenSources(ctx.world, services, owner.gateway);
  for (const source of sources) {
    if (source.value) ctx.noteCredential({ kind: "gateway_token", source: source.source, secret: source.value, subject: `gateway:${ctx.world.port}` });
  }
  const client = ctx.world.clientToken?.value;
  return Promise.all([...groupByValue(sources)].map(async ([value, sources]) => ({
    value,
    sources,
    result: value === client ? (await ctx.observe(clientHandshake))! : await handshake(ctx, value),
  })));
});

/** A client with no token at all: refused when auth is on. */
export const anonymousHandshake = observation<HandshakeResult>("anonymous-handshake", HANDSHAKE_DEADLINE_MS, [portOwner], (ctx) => handshake(ctx, undefined));
