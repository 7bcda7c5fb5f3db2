// One simulated node's life: the agent's own CollectorLink (hello, welcome,
// acks, resend, reconnect with backoff), a report each interval with the
// agent's ±10% jitter, at once when welcomed or asked, and for a sleeper (or a
// dropout, which cannot sleep but loses its network), a stream that goes away
// for the silent part of the cycle and comes back after it.
import { create } from "@bufbuild/protobuf";
import { NodeIdentitySchema } from "../../shared/gen/clawfleet/v1/report_pb.ts";
import { fingerprinter, type Fingerprinter } from "../../shared/fingerprint.ts";
import type { Logger } from "../../shared/log.ts";
import { AGENT_VERSION } from "../../shared/version.ts";
import { hostFacts } from "../report/host-facts.ts";
import { wireReport } from "../report/wire-report.ts";
import { CollectorLink, type LinkChannel } from "../run/collector-link.ts";
import type { CollectorDirectory } from "../run/collector-choice.ts";
import { MemorySequence } from "./memory-sequence.ts";
import type { Random } from "./seeded-random.ts";
import { simulatedRun, type SimPower } from "./sim-findings.ts";
import type { SimHost } from "./sim-host.ts";

/** As the agent's report loop: a CheckNow right after a report is answered by it. */
const CHECK_NOW_DEBOUNCE_MS = 5000;

export interface SleepCycle {
  awakeMs: number;
  asleepMs: number;
}

export interface SimNodeOptions {
  host: SimHost;
  collectors: CollectorDirectory;
  channel: LinkChannel;
  intervalMs: number;
  /** Sleepers and dropouts: awake (reporting), then silent, again and again. */
  sleepCycle?: SleepCycle;
  random: Random;
  log: Logger;
  onReport(): void;
}

export class SimNode {
  readonly host: SimHost;
  private readonly options: SimNodeOptions;
  private readonly sequence = new MemorySequence();
  private readonly power: SimPower = { lastSleepMs: 0, lastWakeMs: 0 };
  private link?: CollectorLink;
  private fingerprint?: Fingerprinter;
  private reportTimer?: NodeJS.Timeout;
  private sleepTimer?: NodeJS.Timeout;
  private lastReportMs = 0;
  private reportedOnLink = false;
  private stopped = false;
  /** Asleep (a sleeper) or off the network (a dropout). */
  silent = false;

  constructor(options: SimNodeOptions) {
    this.options = options;
    this.host = options.host;
  }

  get connected(): boolean {
    return this.link?.connected ?? false;
  }

  start(): void {
    this.connect();
    // Sleepers fall asleep at different times, after at least one report.
    if (this.options.sleepCycle) this.scheduleSleep(this.options.sleepCycle.awakeMs * (0.5 + this.options.random() * 0.5));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.reportTimer);
    clearTimeout(this.sleepTimer);
    this.link?.stop();
  }

  private connect(): void {
    const { host, log } = this.options;
    this.reportedOnLink = false;
    this.link = new CollectorLink({
      collectors: this.options.collectors,
      channel: this.options.channel,
      sequence: this.sequence,
      identity: create(NodeIdentitySchema, { nodeId: host.nodeId, hostname: host.hostname, platform: host.platform, agentVersion: AGENT_VERSION, openclawVersion: host.openclawVersion, simulated: true }),
      log,
      // A day of reports at most, like an agent without a spool.
      maxPending: 3000,
      onWelcome: (key) => {
        if (key.length > 0) this.fingerprint = fingerprinter(key);
        // After the link has resent what is pending (it does so right after this call), as the
        // agent's asynchronous check run is: reporting inside the callback would send it twice.
        if (!this.reportedOnLink) setImmediate(() => this.report());
      },
      onCheckNow: () => {
        if (Date.now() - this.lastReportMs >= CHECK_NOW_DEBOUNCE_MS) this.report();
      },
    });
    this.link.start();
  }

  private report(): void {
    if (this.stopped || this.silent || !this.link || !this.fingerprint) return;
    clearTimeout(this.reportTimer);
    const now = Date.now();
    const run = simulatedRun(this.host, this.fingerprint, this.power, now);
    this.link.send(wireReport(this.sequence.next(), run, hostFacts(run)));
    this.lastReportMs = now;
    this.reportedOnLink = true;
    this.options.onReport();
    const jitter = 0.9 + this.options.random() * 0.2;
    this.reportTimer = setTimeout(() => this.report(), this.options.intervalMs * jitter);
  }

  private scheduleSleep(afterMs: number): void {
    this.sleepTimer = setTimeout(() => this.sleep(), afterMs);
  }

  /**
   * The stream goes with the host. The collector files the silence as asleep
   * when the reports said the host may sleep, else as unreachable (a dropout).
   */
  private sleep(): void {
    if (this.stopped) return;
    // Not reported yet (still connecting): a node that never spoke cannot be seen going silent.
    if (!this.reportedOnLink) return this.scheduleSleep(1000);
    this.silent = true;
    if (this.host.sleeper) this.power.lastSleepMs = Date.now();
    clearTimeout(this.reportTimer);
    this.link?.stop();
    this.link = undefined;
    this.sleepTimer = setTimeout(() => this.wake(), this.options.sleepCycle!.asleepMs * (0.9 + this.options.random() * 0.2));
  }

  private wake(): void {
    if (this.stopped) return;
    this.silent = false;
    if (this.host.sleeper) this.power.lastWakeMs = Date.now();
    this.connect();
    this.scheduleSleep(this.options.sleepCycle!.awakeMs * (0.9 + this.options.random() * 0.2));
  }
}
