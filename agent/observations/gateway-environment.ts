// The environment the gateway reads provider keys from: the live gateway
// process's, else its service definition's, else (a gateway started by hand
// from this shell) the CLI's; plus the state dir's .env and config env.vars.
import { gatewayEnv, type GatewayEnv } from "../discovery/provider-env.ts";
import { serviceDiscovery } from "./gateway-services.ts";
import { portOwner } from "./host-gateway.ts";
import { observation } from "./observation.ts";

export const gatewayEnvironment = observation<GatewayEnv>("gateway-environment", 4500, [serviceDiscovery, portOwner], async (ctx) => {
  const [{ services }, owner] = await Promise.all([ctx.observe(serviceDiscovery), ctx.observe(portOwner)]);
  const service = services.find((s) => Object.keys(s.environment).length > 0) ?? services[0];
  // A gateway on this port serving another state dir (another profile) is not the one these agents run in.
  const gateway = owner.gateway;
  // Nor is a program that is not a gateway at all (it holds the port; its environment says nothing).
  const isGateway = !!gateway && (!!gateway.installDir || gateway.argv[0] === "openclaw-gateway");
  const live = isGateway && gateway?.env && Object.keys(gateway.env).length > 0 && (!gateway.stateDir || gateway.stateDir === ctx.world.stateDir) ? gateway : undefined;
  return gatewayEnv({
    stateDir: ctx.world.stateDir,
    cliEnv: ctx.world.env,
    shellEnv: ctx.world.shellEnv,
    dotenvFiles: ctx.world.dotenvFiles,
    ...(service ? { serviceEnv: service.environment, serviceName: service.name } : {}),
    ...(live ? { processEnv: live.env!, processLabel: `gateway pid ${live.pid} env` } : {}),
    ...(ctx.world.config.raw ? { config: ctx.world.config.raw } : {}),
  });
});
