// A check run as a clawfleet.v1.Report.
import { create } from "@bufbuild/protobuf";
import { ReportSchema, type Report } from "../../shared/gen/clawfleet/v1/report_pb.ts";
import { toWireFinding } from "../../shared/report-codec.ts";
import type { CheckRun } from "../checks/run-checks.ts";

export interface HostFacts {
  maySleep: boolean;
  lastWakeMs: number;
  lastSleepMs: number;
  openclawVersion: string;
}

export function wireReport(seq: bigint, run: CheckRun, host: HostFacts): Report {
  return create(ReportSchema, {
    seq,
    observedAtUnixMs: BigInt(run.startedAtMs),
    verdict: run.verdict,
    primaryIndex: run.primary ? run.findings.indexOf(run.primary) : -1,
    findings: run.findings.map(toWireFinding),
    durationMs: run.durationMs,
    maySleep: host.maySleep,
    lastWakeUnixMs: BigInt(host.lastWakeMs),
    lastSleepUnixMs: BigInt(host.lastSleepMs),
    openclawVersion: host.openclawVersion,
    credentials: run.credentials,
  });
}
