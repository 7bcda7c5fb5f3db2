// Host facts the collector needs besides findings, read from the run's own
// evidence so nothing is observed twice: may the host sleep, when did it last
// sleep and wake, which OpenClaw does the gateway run.
import type { CheckRun } from "../checks/run-checks.ts";
import type { HostFacts } from "./wire-report.ts";

export function hostFacts(run: CheckRun, wallClockSleep?: { sleptAtMs: number; wokeAtMs: number }): HostFacts {
  const evidence = (check: string, key: string) => run.findings.find((f) => f.check === check && f.evidence[key] !== undefined)?.evidence[key];
  const number = (value: string | undefined) => (value && Number.isFinite(Number(value)) ? Number(value) : 0);
  return {
    maySleep: evidence("power", "maySleep") === "true",
    // The agent's own wall-clock jump catches a sleep the platform did not report.
    lastWakeMs: Math.max(number(evidence("power", "lastWakeMs")), wallClockSleep?.wokeAtMs ?? 0),
    lastSleepMs: Math.max(number(evidence("power", "lastSleepMs")), wallClockSleep?.sleptAtMs ?? 0),
    openclawVersion: evidence("gateway", "gatewayVersion") ?? evidence("session", "gatewayVersion") ?? "",
  };
}
