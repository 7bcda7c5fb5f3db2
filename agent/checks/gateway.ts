// Gateway layer: is a gateway process running, listening on its port, ready.
import { passed, problem, type Finding } from "../../shared/finding.ts";
import { findGatewayProcesses } from "../discovery/gateway-processes.ts";
import { openclawStateDir } from "../discovery/openclaw-world.ts";
import { probeReady } from "../probes/gateway-ready.ts";
import { tcpConnect } from "../probes/tcp-connect.ts";
import type { Check, CheckContext } from "./check.ts";

/** Shared with other checks: whether 127.0.0.1:<port> accepts connections. */
export function loopbackOpen(ctx: CheckContext): Promise<boolean> {
  return ctx.once("gateway.loopback", async () => (await tcpConnect("127.0.0.1", ctx.world.port, 1000, ctx.signal)) === "open");
}

export const gatewayCheck: Check = {
  name: "gateway",
  layer: "gateway",
  deadlineMs: 3000,
  async run(ctx): Promise<Finding[]> {
    const { port, portSource } = ctx.world;
    const evidence = { port: String(port), portSource };
    if (!(await loopbackOpen(ctx))) {
      // Several gateways (profiles, other users) may run on one host: only one
      // serving this state dir is ours. An unreadable environment counts as ours.
      const all = await findGatewayProcesses();
      const processes = all.filter((p) => !p.env || openclawStateDir(p.env) === ctx.world.stateDir);
      if (processes.length === 0) {
        const others = all.map((p) => `${p.pid} (${openclawStateDir(p.env!)})`).join(", ");
        const note = others ? ` Other gateways run for other state dirs: ${others}.` : "";
        return [problem("gateway", "not_running", `No OpenClaw gateway is running for ${ctx.world.stateDir} and nothing listens on 127.0.0.1:${port} (port from ${portSource}).${note}`, { ...evidence, stateDir: ctx.world.stateDir })];
      }
      const pids = processes.map((p) => p.pid).join(",");
      return [problem("gateway", "not_listening", `Gateway process ${pids} is running but 127.0.0.1:${port} refuses connections (port from ${portSource}).`, { ...evidence, pid: pids })];
    }
    const ready = await probeReady(port, ctx.signal);
    if (!ready.ready) {
      const failing = ready.failing.length > 0 ? ready.failing.join(", ") : (ready.error ?? `HTTP ${ready.httpStatus}`);
      return [problem("gateway", "not_ready", `Gateway on 127.0.0.1:${port} is not ready: ${failing}.`, { ...evidence, failing })];
    }
    return [passed("gateway", "gateway", `Gateway listens on 127.0.0.1:${port} and is ready.`, evidence)];
  },
};
