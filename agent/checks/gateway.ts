// Gateway layer: is a gateway process for this state dir running, listening on
// its port, ready. The listener's process is the ground truth for later checks.
import { passed, problem, type Finding } from "../../shared/finding.ts";
import { findGatewayProcesses } from "../discovery/gateway-processes.ts";
import { openclawStateDir } from "../discovery/openclaw-world.ts";
import { probeReady } from "../probes/gateway-ready.ts";
import type { Check } from "./check.ts";
import { loopbackOpen, portOwner } from "./observations.ts";

export const gatewayCheck: Check = {
  name: "gateway",
  layer: "gateway",
  deadlineMs: 3000,
  async run(ctx): Promise<Finding[]> {
    const { port, portSource, stateDir } = ctx.world;
    const evidence: Record<string, string> = { port: String(port), portSource };
    const [open, owner] = await Promise.all([loopbackOpen(ctx), portOwner(ctx)]);
    if (owner.pid !== undefined) evidence.pid = String(owner.pid);
    if (owner.listenAddresses.length > 0) evidence.listenAddresses = owner.listenAddresses.join(",");
    if (!open) {
      // Several gateways (profiles, other users) may run on one host: only one
      // serving this state dir is ours. An unreadable environment counts as ours.
      const all = await findGatewayProcesses(ctx.runner, ctx.platform, ctx.signal);
      const ours = all.filter((p) => !p.env || openclawStateDir(p.env) === stateDir);
      if (ours.length === 0) {
        const others = all.map((p) => `${p.pid} (${openclawStateDir(p.env!)})`).join(", ");
        const note = others ? ` Other gateways run for other state dirs: ${others}.` : "";
        return [problem("gateway", "not_running", `No OpenClaw gateway is running for ${stateDir} and nothing listens on 127.0.0.1:${port} (port from ${portSource}).${note}`, { ...evidence, stateDir })];
      }
      const pids = ours.map((p) => p.pid).join(",");
      return [problem("gateway", "not_listening", `Gateway process ${pids} is running but 127.0.0.1:${port} refuses connections (port from ${portSource}).`, { ...evidence, pid: pids })];
    }
    const live = owner.gateway;
    if (live?.version) evidence.gatewayVersion = live.version;
    if (live?.startedAtMs) evidence.startedAt = new Date(live.startedAtMs).toISOString();
    const ready = await probeReady(port, ctx.signal);
    if (!ready.ready) {
      const failing = ready.failing.length > 0 ? ready.failing.join(", ") : (ready.error ?? `HTTP ${ready.httpStatus}`);
      return [problem("gateway", "not_ready", `Gateway on 127.0.0.1:${port} is not ready: ${failing}.`, { ...evidence, failing })];
    }
    const what = live?.version ? `OpenClaw ${live.version} (pid ${live.pid})` : "Gateway";
    return [passed("gateway", "gateway", `${what} listens on 127.0.0.1:${port} and is ready.`, evidence)];
  },
};
