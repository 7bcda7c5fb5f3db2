// Gateway layer: is a gateway process for this state dir running, listening on
// its port, ready. The listener's process is the ground truth for later checks.
import { passed, problem, type Finding } from "../../shared/finding.ts";
import { within } from "../../shared/within.ts";
import { openclawStateDir } from "../discovery/openclaw-world.ts";
import type { ServiceDefinition } from "../discovery/gateway-service.ts";
import type { ServiceDiscovery } from "../discovery/find-gateway-service.ts";
import { serviceDiscovery } from "../observations/gateway-services.ts";
import { gatewayProcesses, gatewayReadiness, loopbackOpen, portOwner } from "../observations/host-gateway.ts";
import { orElse } from "../observations/observation.ts";
import type { Check } from "./check.ts";

const ENRICHMENT_MS = 2000;


/** The manager says it does not have the service (an unknown answer is not a no). */
function notLoaded(service: ServiceDefinition): boolean {
  return !service.loaded && !(service.state ?? "").startsWith("unknown");
}

function serviceEvidence(services: readonly ServiceDefinition[]): Record<string, string> {
  const main = services[0];
  if (!main) return {};
  const evidence: Record<string, string> = { service: `${main.manager} ${main.name}`, serviceState: main.state ?? (main.loaded ? "loaded" : "not loaded") };
  if (main.definitionPath) evidence[main.manager === "launchd" ? "plistPath" : "unitPath"] = main.definitionPath;
  if (main.manager === "systemd") evidence.unit = main.name;
  if (main.runs !== undefined) evidence.runs = String(main.runs);
  if (main.lastExitStatus !== undefined) evidence.lastExitStatus = String(main.lastExitStatus);
  return evidence;
}

export const gatewayCheck: Check = {
  name: "gateway",
  layer: "gateway",
  // Above loopback (1.5 s) then readiness (4.5 s): an observation that runs out is reported as itself.
  deadlineMs: 6500,
  observes: [loopbackOpen, portOwner, serviceDiscovery, gatewayProcesses, gatewayReadiness],
  async run(ctx): Promise<Finding[]> {
    const { port, portSource, stateDir } = ctx.world;
    const evidence: Record<string, string> = { port: String(port), portSource };
    // The verdict rests on loopback and /readyz; who owns the port and what the
    // service manager says only enrich it, so a slow /proc scan or systemctl on a
    // loaded host must not cost the verdict its deadline.
    const noServices: ServiceDiscovery = { services: [], errors: [{ manager: ctx.platform === "darwin" ? "launchd" : "systemd", name: "service discovery", message: `no answer within ${ENRICHMENT_MS} ms` }] };
    const [open, owner, discovery] = await Promise.all([
      ctx.observe(loopbackOpen),
      within(orElse(ctx.observe(portOwner), { listenAddresses: [] }), ENRICHMENT_MS, { listenAddresses: [] }),
      within(orElse(ctx.observe(serviceDiscovery), noServices), ENRICHMENT_MS, noServices),
    ]);
    Object.assign(evidence, serviceEvidence(discovery.services));
    if (discovery.errors.length > 0) evidence.serviceProblems = discovery.errors.map((e) => `${e.name}: ${e.message}`).join("; ").slice(0, 900);
    if (owner.pid !== undefined) evidence.pid = String(owner.pid);
    if (owner.listenAddresses.length > 0) evidence.listenAddresses = owner.listenAddresses.join(",");
    if (!open) {
      // Several gateways (profiles, other users) may run on one host: only one
      // serving this state dir is ours. An unreadable environment counts as ours.
      const all = await ctx.observe(gatewayProcesses);
      const ours = all.filter((p) => !p.env || openclawStateDir(p.env) === stateDir);
      if (ours.length === 0) {
        const others = all.map((p) => `${p.pid} (${openclawStateDir(p.env!)})`).join(", ");
        const note = others ? ` Other gateways run for other state dirs: ${others}.` : "";
        const unloaded = discovery.services.find(notLoaded);
        if (unloaded) {
          return [problem("gateway", "service_not_loaded", `${unloaded.manager} has not loaded ${unloaded.name}${unloaded.definitionPath ? ` (${unloaded.definitionPath})` : ""}, and nothing listens on 127.0.0.1:${port}.${note}`, { ...evidence, stateDir })];
        }
        const service = discovery.services[0];
        const why = service ? ` Service ${service.name} is ${service.state ?? "loaded"}${service.lastExitStatus !== undefined ? `, last exit status ${service.lastExitStatus}` : ""}${service.runs !== undefined ? `, ${service.runs} runs` : ""}.` : "";
        return [problem("gateway", "not_running", `No OpenClaw gateway is running for ${stateDir} and nothing listens on 127.0.0.1:${port} (port from ${portSource}).${why}${note}`, { ...evidence, stateDir })];
      }
      const pids = ours.map((p) => p.pid).join(",");
      return [problem("gateway", "not_listening", `Gateway process ${pids} is running but 127.0.0.1:${port} refuses connections (port from ${portSource}).`, { ...evidence, pid: pids })];
    }
    const live = owner.gateway;
    if (live?.version) evidence.gatewayVersion = live.version;
    if (live?.startedAtMs) evidence.startedAt = new Date(live.startedAtMs).toISOString();
    const ready = await ctx.observe(gatewayReadiness);
    if (!ready.ready) {
      const failing = ready.failing.length > 0 ? ready.failing.join(", ") : (ready.error ?? `HTTP ${ready.httpStatus}`);
      return [problem("gateway", "not_ready", `Gateway on 127.0.0.1:${port} is not ready: ${failing}.`, { ...evidence, failing })];
    }
    const what = live?.version ? `OpenClaw ${live.version} (pid ${live.pid})` : "Gateway";
    return [passed("gateway", "gateway", `${what} listens on 127.0.0.1:${port} and is ready.`, evidence)];
  },
};
