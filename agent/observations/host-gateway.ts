// What listens on the gateway port and which gateway processes run: the
// ground truth the other observations and every check compare against.
import { findGatewayProcesses, type GatewayProcess } from "../discovery/gateway-processes.ts";
import { findPortOwner, type PortOwner } from "../discovery/live-gateway.ts";
import { probeReady, type ReadyResult } from "../probes/gateway-ready.ts";
import { tcpConnect } from "../probes/tcp-connect.ts";
import { observation } from "./observation.ts";

/** Whether 127.0.0.1:<port> accepts connections. */
export const loopbackOpen = observation<boolean>("loopback", 1500, [], async (ctx) => (await tcpConnect("127.0.0.1", ctx.world.port, 1000, ctx.signal)) === "open");

/** Who listens on the gateway port, and what that process is (a /proc scan or lsof). */
export const portOwner = observation<PortOwner>("port-owner", 3000, [], (ctx) => findPortOwner(ctx.world.port, ctx.runner, ctx.platform, ctx.signal, ctx.caches.portOwners));

/** Every OpenClaw gateway process on the host, whichever state dir it serves. */
export const gatewayProcesses = observation<GatewayProcess[]>("gateway-processes", 3000, [], (ctx) => findGatewayProcesses(ctx.runner, ctx.platform, ctx.signal));

/** /readyz gets this long; no answer by then is the fact "not ready", not a failed observation. */
const READY_WAIT_MS = 3500;

/** GET /readyz on loopback. */
export const gatewayReadiness = observation<ReadyResult>("readiness", READY_WAIT_MS + 1000, [], async (ctx) => {
  const ready = await probeReady(ctx.world.port, AbortSignal.any([ctx.signal, AbortSignal.timeout(READY_WAIT_MS)]));
  return ready.error && !ctx.signal.aborted && /abort|timeout/i.test(ready.error) ? { ...ready, error: `no answer within ${READY_WAIT_MS} ms` } : ready;
});
