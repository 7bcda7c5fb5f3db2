// Every `openclaw` a shell or the service would run (`which -a` over the
// shell's PATH, then over each service's PATH), found once per run: the drift
// check judges them, a change ticket lists them.
import { openclawOnPath, type OpenClawBinary } from "../discovery/openclaw-installs.ts";
import { serviceDiscovery } from "./gateway-services.ts";
import { observation } from "./observation.ts";

export interface OpenClawBinaries {
  /** On this shell's PATH, in PATH order (the first is what `openclaw` runs). */
  shell: OpenClawBinary[];
  /** On the services' own PATHs, in the order of the services. */
  service: OpenClawBinary[];
}

export const openclawBinaries = observation<OpenClawBinaries>("openclaw-binaries", 1500, [serviceDiscovery], async (ctx) => {
  const { services } = await ctx.observe(serviceDiscovery);
  return { shell: openclawOnPath(ctx.world.env.PATH), service: services.flatMap((s) => openclawOnPath(s.servicePath)) };
});
