// How often the gateway has been (re)started, from every witness there is:
// the service manager's counters (launchd `runs` and last exit, systemd
// NRestarts and ExecMain* times), the same counters in earlier runs of this
// daemon, the gateway processes serving this state dir, and who owns the
// port at two looks a moment apart. The judging is the restarts check's.
import { openclawStateDir } from "../discovery/openclaw-world.ts";
import type { ServiceDiscovery } from "../discovery/find-gateway-service.ts";
import { findPortOwner } from "../discovery/live-gateway.ts";
import { serviceDiscovery } from "./gateway-services.ts";
import { gatewayProcesses, portOwner } from "./host-gateway.ts";
import { observation, orElse } from "./observation.ts";
import { rememberRestartCount, type RestartSample } from "./run-caches.ts";

/** Time between the two looks at the port's owner: a gateway in a tight restart loop lives about this long. */
export const PORT_LOOK_GAP_MS = 500;
/** A loop is this many (re)starts within the window. launchd throttles a KeepAlive job to one start per 10 s, so 3 in 10 min is no accident. */
export const CRASH_LOOP_RESTARTS = 3;
export const CRASH_LOOP_WINDOW_MS = 10 * 60_000;
/**
 * A listener up longer than this is not in a tight loop right now (a gateway
 * takes 5–25 s to start); slower loops show in the manager's counters and the
 * log. So only a gateway restarted within the last minute costs the second look.
 */
export const YOUNG_LISTENER_MS = 60_000;

export interface ServiceRestarts {
  manager: "launchd" | "systemd";
  name: string;
  state?: string;
  /** launchd `runs` (every start since load) or systemd NRestarts (automatic restarts since the last manual start). */
  count?: number;
  lastExitStatus?: number;
  /** The raw last-exit text is not kept: the status is what the judges compare. */
  startedAtMs?: number;
  exitedAtMs?: number;
  /** This daemon's earlier readings of `count`, oldest first, the current one last (one reading for `agent check`). */
  samples: RestartSample[];
}

export interface GatewayRestarts {
  services: ServiceRestarts[];
  /** Gateway processes serving this state dir (one whose environment cannot be read counts as ours). */
  processes: number[];
  /** Who listened on the gateway port at the first look and PORT_LOOK_GAP_MS later. */
  portOwners: [number | undefined, number | undefined];
}

export const gatewayRestarts = observation<GatewayRestarts>("gateway-restarts", 6000, [serviceDiscovery, gatewayProcesses, portOwner], async (ctx) => {
  const noServices: ServiceDiscovery = { services: [], errors: [] };
  const [{ services }, processes, first] = await Promise.all([
    orElse(ctx.observe(serviceDiscovery), noServices),
    orElse(ctx.observe(gatewayProcesses), []),
    orElse(ctx.observe(portOwner), { listenAddresses: [] }),
  ]);
  // A second look only where a tight loop could show: something listens, and it started within the last minute.
  const startedAtMs = first.gateway?.startedAtMs;
  const young = first.pid !== undefined && (startedAtMs === undefined || Date.now() - startedAtMs < YOUNG_LISTENER_MS);
  let second = first;
  if (young) {
    await new Promise((resolve) => setTimeout(resolve, PORT_LOOK_GAP_MS));
    if (!ctx.signal.aborted) second = await findPortOwner(ctx.world.port, ctx.runner, ctx.platform, ctx.signal, ctx.caches.portOwners).catch(() => ({ listenAddresses: [] }));
  }
  const nowMs = Date.now();
  return {
    services: services.map((s) => ({
      manager: s.manager,
      name: s.name,
      ...(s.state !== undefined ? { state: s.state } : {}),
      ...(s.runs !== undefined ? { count: s.runs } : {}),
      ...(s.lastExitStatus !== undefined ? { lastExitStatus: s.lastExitStatus } : {}),
      ...(s.startedAtMs !== undefined ? { startedAtMs: s.startedAtMs } : {}),
      ...(s.exitedAtMs !== undefined ? { exitedAtMs: s.exitedAtMs } : {}),
      samples: s.runs !== undefined ? rememberRestartCount(ctx.caches, `${s.manager}\0${s.name}`, s.runs, nowMs) : [],
    })),
    processes: processes.filter((p) => !p.env || openclawStateDir(p.env) === ctx.world.stateDir).map((p) => p.pid),
    portOwners: [first.pid, second.pid],
  };
});
