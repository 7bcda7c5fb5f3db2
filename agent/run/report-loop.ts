// The daemon's heartbeat: run every check each interval (jittered, so a fleet
// started together does not report in lockstep), at once when the collector
// asks, at once after the host wakes (the wall clock jumped), and at once when
// the gateway's process exits or its port starts listening again (gateway-watch.ts).
import { create } from "@bufbuild/protobuf";
import { NodeIdentitySchema } from "../../shared/gen/clawfleet/v1/report_pb.ts";
import { fingerprinter, type Fingerprinter } from "../../shared/fingerprint.ts";
import type { Logger } from "../../shared/log.ts";
import { AGENT_VERSION } from "../../shared/version.ts";
import type { Check } from "../checks/check.ts";
import { newRunCaches } from "../observations/run-caches.ts";
import { runChecks } from "../checks/run-checks.ts";
import { discoverOpenClaw, type Env } from "../discovery/openclaw-world.ts";
import type { NodeInfo } from "../discovery/node-identity.ts";
import { wireReport } from "../report/wire-report.ts";
import { hostFacts } from "../report/host-facts.ts";
import { WakeDetector, type Sleep } from "./wake-detector.ts";
import { GatewayWatch } from "./gateway-watch.ts";
import { observedIn } from "../checks/run-checks.ts";
import { portOwner } from "../observations/host-gateway.ts";
import { Spool } from "./spool.ts";
import { systemRunner } from "../platform/command-runner.ts";
import { CollectorLink } from "./collector-link.ts";
import type { SequenceFile } from "./sequence-file.ts";
import { readFleetKey, writeFleetKey } from "./fleet-key-file.ts";
import { collectorCredentials, COLLECTOR_CHANNEL_OPTIONS } from "../../shared/pki/collector-channel.ts";
import type { StoredIdentity } from "../../shared/pki/identity-files.ts";
import { startCertificateRenewal } from "./certificate-renewal.ts";
import { CollectorDirectory } from "./collector-choice.ts";

const CHECK_NOW_DEBOUNCE_MS = 5000;

export interface LoopOptions {
  /** One collector's address; or `collectors`, the fleet's (a list, or an SRV name). */
  collector?: string;
  collectors?: CollectorDirectory;
  /** Where the fleet key is kept between runs. */
  fleetKeyPath: string;
  /** Directory of unacknowledged reports (survives restarts). */
  spoolDir: string;
  node: NodeInfo;
  intervalMs: number;
  checks: readonly Check[];
  sequence: SequenceFile;
  env: Env;
  log: Logger;
  /** The enrolled identity and where it lives (renewals are written there); absent with --insecure. */
  identity?: { dir: string; current: StoredIdentity };
}


export function startReportLoop(options: LoopOptions): { stop(): void } {
  const { log } = options;
  const collectors = options.collectors ?? CollectorDirectory.single(options.collector ?? "");
  const storedKey = readFleetKey(options.fleetKeyPath);
  let fingerprint: Fingerprinter | undefined = storedKey ? fingerprinter(storedKey) : undefined;
  if (!fingerprint) log.info("waiting for the collector's welcome before the first check (it issues the fingerprint key)", { collector: collectors.spec.text });
  let timer: NodeJS.Timeout | undefined;
  /** When the scheduled run is due (Infinity while none is). */
  let nextTickAtMs = Infinity;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const wake = new WakeDetector();
  let lastRunStartedMs = 0;
  let lastSleep: Sleep | undefined;
  let started = false;
  if (options.sequence.problem) log.warn("sequence file unusable, set aside", { problem: options.sequence.problem });

  const channelOf = (identity: StoredIdentity) => ({ credentials: collectorCredentials(identity), options: COLLECTOR_CHANNEL_OPTIONS });
  const link = new CollectorLink({
    collectors,
    channel: options.identity ? channelOf(options.identity.current) : undefined,
    spool: openSpool(options.spoolDir, log),
    sequence: options.sequence,
    identity: create(NodeIdentitySchema, {
      nodeId: options.node.id,
      hostname: options.node.hostname,
      platform: options.node.platform,
      agentVersion: AGENT_VERSION,
    }),
    log,
    onWelcome(key) {
      if (key.length > 0) {
        fingerprint = fingerprinter(key);
        try {
          writeFleetKey(options.fleetKeyPath, key);
        } catch (error) {
          log.error("cannot keep the fleet key: the agent needs the collector's welcome again after a restart", { path: options.fleetKeyPath, error: (error as Error).message });
        }
      }
      // The link has settled the numbering before this: the first run may start.
      if (!started) tick();
    },
    onCheckNow(reason) {
      // A run that just started answers the request already.
      if (running || Date.now() - lastRunStartedMs < CHECK_NOW_DEBOUNCE_MS) return;
      log.info("collector asked for a check", { reason });
      tick();
    },
  });

  const schedule = () => {
    if (stopped) return;
    clearTimeout(timer);
    const jitter = 0.9 + Math.random() * 0.2;
    nextTickAtMs = Date.now() + options.intervalMs * jitter;
    timer = setTimeout(tick, nextTickAtMs - Date.now());
  };

  // A gateway that exits (or comes back) between runs is checked at once, at most once per debounce window.
  // The debounce bounds a crash-looping gateway's cost; it never puts off a run already due sooner.
  const gatewayWatch = new GatewayWatch((reason) => {
    log.info("gateway changed between checks", { reason });
    const earliest = lastRunStartedMs + CHECK_NOW_DEBOUNCE_MS;
    // A run in flight re-arms the watch when it ends: a gateway gone by then is an edge again, debounced.
    if (running) return;
    if (Date.now() >= earliest) tick();
    else if (earliest < nextTickAtMs) {
      clearTimeout(timer);
      nextTickAtMs = earliest;
      timer = setTimeout(tick, earliest - Date.now());
    }
  });

  // What the daemon remembers between runs (rejected tokens, Node versions), each entry with its invalidation.
  const caches = newRunCaches();

  const once = async () => {
    lastRunStartedMs = Date.now();
    const slept = wake.read();
    if (slept) {
      lastSleep = slept;
      log.info("host slept since the last check", { sleptMs: slept.sleptMs });
    }
    const world = discoverOpenClaw(options.env);
    const run = await runChecks(options.checks, { world, fingerprint: fingerprint!, runner: systemRunner, platform: process.platform, caches });
    gatewayWatch.observe(world.port, observedIn(run, portOwner));
    const report = wireReport(options.sequence.next(), run, hostFacts(run, lastSleep));
    link.send(report);
    log.info("report", { seq: report.seq, verdict: run.verdict, primary: run.primary?.code ?? "none", ms: run.durationMs, unacked: link.unacknowledged });
  };

  function tick(): void {
    // Without the key, or without knowing where numbering stands, a report would be wrong.
    if (stopped || !fingerprint || options.sequence.awaitingCollector) return;
    started = true;
    if (running) {
      again = true;
      return;
    }
    clearTimeout(timer);
    nextTickAtMs = Infinity;
    running = once()
      .catch((error) => log.error("check run failed", { error: (error as Error).message }))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          tick();
        } else schedule();
      });
  }

  // A wake shows up as a late timer; a short watchdog catches it between ticks.
  const watchdog = setInterval(() => {
    if (wake.peek()) tick();
  }, 2000);
  watchdog.unref();

  link.start();
  gatewayWatch.start();
  const renewal = options.identity ? startCertificateRenewal({ dir: options.identity.dir, log, collectors: () => link.collectors, onRenewed: (identity) => link.replaceChannel(channelOf(identity)) }) : undefined;
  tick();
  return {
    stop() {
      stopped = true;
      renewal?.stop();
      clearTimeout(timer);
      clearInterval(watchdog);
      gatewayWatch.stop();
      link.stop();
    },
  };
}

/**
 * A spool directory that cannot be made (a file in its place, no permission)
 * costs durability across restarts, never the agent: reports stay in memory.
 */
function openSpool(dir: string, log: Logger): Spool | undefined {
  try {
    return new Spool(dir);
  } catch (error) {
    log.error("cannot use the spool directory: unsent reports are kept in memory only", { spool: dir, error: (error as Error).message });
    return undefined;
  }
}
