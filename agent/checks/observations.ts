// Observations several checks need, made once per run (ctx.once) and shared:
// the loopback port, the process that owns it, and token handshakes.
import { AGENT_VERSION } from "../../shared/version.ts";
import { discoverGatewayServices, type ServiceDiscovery } from "../discovery/find-gateway-service.ts";
import type { ServiceDefinition } from "../discovery/gateway-service.ts";
import { findPortOwner, type PortOwner } from "../discovery/live-gateway.ts";
import { gatewayHandshake, type HandshakeResult } from "../probes/gateway-handshake.ts";
import { tcpConnect } from "../probes/tcp-connect.ts";
import type { CheckContext } from "./check.ts";

/** Whether 127.0.0.1:<port> accepts connections. */
export function loopbackOpen(ctx: CheckContext): Promise<boolean> {
  return ctx.once("loopback", async () => (await tcpConnect("127.0.0.1", ctx.world.port, 1000, ctx.signal)) === "open");
}

/** Who listens on the gateway port, and what that process is. */
export function portOwner(ctx: CheckContext): Promise<PortOwner> {
  return ctx.once("port-owner", () => findPortOwner(ctx.world.port, ctx.runner, ctx.platform, ctx.signal));
}

/** How long a rejected token is not re-sent to the same gateway process. */
export const REJECTION_MEMORY_MS = 10 * 60_000;

/**
 * Rejections by (token, gateway process): the daemon must not knock with the
 * same bad token every interval, each costing the gateway's growing auth delay
 * and counting toward its lockout. A restarted gateway (new pid or start time)
 * may accept it, so it is tried again then.
 */
const rejections = new Map<string, { result: HandshakeResult; atMs: number }>();

/** One handshake per distinct token per run, whichever check asks first. */
export function loopbackHandshake(ctx: CheckContext, token: string | undefined): Promise<HandshakeResult> {
  const tokenKey = token === undefined ? "none" : ctx.fingerprint(token);
  return ctx.once(`handshake:${tokenKey}`, async () => {
    const owner = await portOwner(ctx);
    const memoryKey = `${tokenKey}@${ctx.world.port}@${owner.pid ?? "?"}@${owner.gateway?.startedAtMs ?? "?"}`;
    const remembered = rejections.get(memoryKey);
    if (remembered && Date.now() - remembered.atMs < REJECTION_MEMORY_MS) return { ...remembered.result, remembered: true };
    const result = await gatewayHandshake(`ws://127.0.0.1:${ctx.world.port}`, token, ctx.signal, AGENT_VERSION);
    if (result.outcome === "rejected" && owner.pid !== undefined) rejections.set(memoryKey, { result, atMs: Date.now() });
    return result;
  });
}

/** The gateway's service definitions (launchd/systemd) and the problems met reading them, once per run. */
export function serviceDiscovery(ctx: CheckContext): Promise<ServiceDiscovery> {
  return ctx.once("services", () =>
    discoverGatewayServices(
      { runner: ctx.runner, env: ctx.world.env, home: ctx.world.home, stateDir: ctx.world.stateDir, uid: process.getuid?.() ?? 0, signal: ctx.signal },
      ctx.platform,
    ),
  );
}

export async function gatewayServices(ctx: CheckContext): Promise<ServiceDefinition[]> {
  return (await serviceDiscovery(ctx)).services;
}
