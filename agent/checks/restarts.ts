// Gateway layer: is the gateway flapping? A crash loop is its own finding,
// whoever restarts it (launchd, systemd, a script, a second gateway), with the
// gateway's last fatal line as the evidence of why.
import { passed, problem, type Finding } from "../../shared/finding.ts";
import { fatalLineEvidence, LOOP_BREAKER_TEXT, matchFatalLine, START_FAILURE_TEXT } from "../discovery/gateway-fatal-lines.ts";
import { gatewayLog, type GatewayLog, type LogLine } from "../observations/gateway-log.ts";
import { CRASH_LOOP_RESTARTS, CRASH_LOOP_WINDOW_MS, gatewayRestarts, type ServiceRestarts } from "../observations/gateway-restarts.ts";

export { CRASH_LOOP_RESTARTS, CRASH_LOOP_WINDOW_MS };
import { orElse } from "../observations/observation.ts";
import type { Check } from "./check.ts";



interface Signal {
  /** For the operator: what shows the loop. */
  says: string;
  restarts?: number;
  lastExitStatus?: number;
}

export const restartsCheck: Check = {
  name: "restarts",
  layer: "gateway",
  // Past its observations' own deadlines (gateway-restarts waits for the service manager, then looks twice).
  deadlineMs: 7000,
  observes: [gatewayRestarts, gatewayLog],
  async run(ctx): Promise<Finding[]> {
    const nowMs = Date.now();
    const [restarts, log] = await Promise.all([ctx.observe(gatewayRestarts), orElse(ctx.observe(gatewayLog), { sources: [], lines: [] } as GatewayLog)]);
    const recent = log.lines.filter((l) => l.atMs === undefined || nowMs - l.atMs <= CRASH_LOOP_WINDOW_MS);
    const signals: Signal[] = [
      ...restarts.services.map((s) => serviceSignal(s, nowMs)).filter((s): s is Signal => s !== undefined),
      ...logSignals(recent),
    ];
    if (restarts.processes.length > 1) signals.push({ says: `${restarts.processes.length} gateway processes serve ${ctx.world.stateDir} (pids ${restarts.processes.join(", ")})` });
    const [before, after] = restarts.portOwners;
    if (before !== undefined && after !== undefined && before !== after) signals.push({ says: `port ${ctx.world.port} changed owner from pid ${before} to pid ${after} within a second` });

    if (signals.length === 0) {
      return [passed("restarts", "gateway", `No restart loop: no service manager, process or log shows ${CRASH_LOOP_RESTARTS} restarts within ${CRASH_LOOP_WINDOW_MS / 60_000} min.`)];
    }
    const evidence: Record<string, string> = {
      restartSignal: signals.map((s) => s.says).join("; "),
      windowMinutes: String(CRASH_LOOP_WINDOW_MS / 60_000),
    };
    const counted = signals.find((s) => s.restarts !== undefined);
    if (counted) evidence.restarts = String(counted.restarts);
    const exit = signals.find((s) => s.lastExitStatus !== undefined);
    if (exit) evidence.lastExitStatus = String(exit.lastExitStatus);
    const fatal = lastFatalLine(recent) ?? lastFatalLine(log.lines);
    if (fatal) {
      evidence.lastFatalLine = fatalLineEvidence(fatal.text);
      evidence.logSource = fatal.where;
      if (fatal.atMs !== undefined) evidence.lastFatalLineAt = new Date(fatal.atMs).toISOString();
    }
    const why = fatal ? ` Last fatal line: ${evidence.lastFatalLine}` : "";
    return [problem("restarts", "crash_loop", `The gateway is restarting in a loop: ${evidence.restartSignal}.${why}`, evidence)];
  },
};

/**
 * One look at a manager's counters: systemd's NRestarts with a start or exit
 * inside the window; launchd's runs with a failed last exit and the job down
 * (launchd has no time for it: "state = not running with multiple recent runs
 * and an exit code", OpenClaw docs gateway/troubleshooting). With earlier
 * readings (the daemon), the counter's climb inside the window.
 */
function serviceSignal(service: ServiceRestarts, nowMs: number): Signal | undefined {
  const earliest = service.samples.find((s) => nowMs - s.atMs <= CRASH_LOOP_WINDOW_MS);
  const latest = service.samples.at(-1);
  const exit = service.lastExitStatus !== undefined && service.lastExitStatus !== 0 ? { lastExitStatus: service.lastExitStatus } : {};
  if (earliest && latest && latest.count - earliest.count >= CRASH_LOOP_RESTARTS) {
    const minutes = Math.max(1, Math.round((latest.atMs - earliest.atMs) / 60_000));
    const counter = service.manager === "launchd" ? "runs" : "NRestarts";
    return { says: `${service.manager} ${service.name} ${counter} went from ${earliest.count} to ${latest.count} in ${minutes} min`, restarts: latest.count - earliest.count, ...exit };
  }
  const count = service.count;
  if (count === undefined || count < CRASH_LOOP_RESTARTS) return undefined;
  if (service.manager === "systemd") {
    const last = Math.max(service.startedAtMs ?? 0, service.exitedAtMs ?? 0);
    if (nowMs - last > CRASH_LOOP_WINDOW_MS) return undefined;
    return { says: `systemd restarted ${service.name} ${count} times, the last at ${new Date(last).toISOString()} (${service.state ?? "state unknown"})`, restarts: count, ...exit };
  }
  if (exit.lastExitStatus === undefined || service.state === "running") return undefined;
  return { says: `launchd started ${service.name} ${count} times and it is ${service.state ?? "not running"}, last exit ${exit.lastExitStatus}`, restarts: count, ...exit };
}

/**
 * The gateway's own words: OpenClaw's breaker, or the same start failure
 * logged again and again. Counted per source, since one failure reaches the
 * file log and the console alike.
 */
function logSignals(recent: readonly LogLine[]): Signal[] {
  const breaker = recent.findLast((l) => l.text.includes(LOOP_BREAKER_TEXT));
  if (breaker) return [{ says: `the gateway's own restart-loop breaker tripped (${breaker.where})` }];
  const failuresBySource = new Map<string, number>();
  for (const line of recent) {
    if (line.text.includes(START_FAILURE_TEXT) || matchFatalLine(line.text)) failuresBySource.set(line.where, (failuresBySource.get(line.where) ?? 0) + 1);
  }
  const [where, failures] = [...failuresBySource].sort((a, b) => b[1] - a[1])[0] ?? ["", 0];
  if (failures < CRASH_LOOP_RESTARTS) return [];
  return [{ says: `${where} logs ${failures} failed starts within ${CRASH_LOOP_WINDOW_MS / 60_000} min`, restarts: failures }];
}

/** The newest line the fatal-line table knows, else the newest start failure, else the newest ERROR/FATAL line. */
function lastFatalLine(lines: readonly LogLine[]): LogLine | undefined {
  return lines.findLast((l) => matchFatalLine(l.text)) ??
    lines.findLast((l) => l.text.includes(START_FAILURE_TEXT)) ??
    lines.findLast((l) => l.level === "ERROR" || l.level === "FATAL");
}
