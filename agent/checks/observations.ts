// Observations several checks need, made once per run (ctx.once) and shared:
// the loopback port, the process that owns it, and token handshakes.
import { AGENT_VERSION } from "../../shared/version.ts";
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

/**
 * One handshake per distinct token per run, whichever check asks first: a bad
 * token costs the gateway's growing auth delay and counts toward its lockout.
 */
export function loopbackHandshake(ctx: CheckContext, token: string | undefined): Promise<HandshakeResult> {
  return ctx.once(`handshake:${token === undefined ? "none" : ctx.fingerprint(token)}`, () =>
    gatewayHandshake(`ws://127.0.0.1:${ctx.world.port}`, token, ctx.signal, AGENT_VERSION),
  );
}
