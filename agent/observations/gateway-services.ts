// The gateway's service definitions (launchd/systemd) and the problems met reading them.
import { discoverGatewayServices, type ServiceDiscovery } from "../discovery/find-gateway-service.ts";
import { observation } from "./observation.ts";

export const serviceDiscovery = observation<ServiceDiscovery>("services", 4000, [], (ctx) =>
  discoverGatewayServices(
    { runner: ctx.runner, env: ctx.world.env, home: ctx.world.home, stateDir: ctx.world.stateDir, uid: process.getuid?.() ?? 0, signal: ctx.signal, userManager: ctx.caches.userManager },
    ctx.platform,
  ),
);
