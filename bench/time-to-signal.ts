// Time to signal (issue 13, benchmark 4): a real OpenClaw gateway watched two
// ways through one Prometheus and one Alertmanager. Ours: `clawfleet agent run`
// → collector process → Prometheus with the shipped rules. The peer: Debian's
// prometheus-blackbox-exporter probing the same gateway's /healthz, with the
// rule people copy for it. Same scrape and evaluation interval, same `for:`,
// same routes and group_wait. The fault: the gateway is stopped (SIGTERM, what
// a crash, `launchctl kickstart -k` or an OOM kill look like from outside:
// the port closes). Measured per repetition: fault → collector state change,
// fault → alert pending in Prometheus, fault → webhook, and gateway back →
// resolved webhook.
//   node bench/time-to-signal.ts [--quick]
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { alertmanagerConfig } from "../deploy/generate/alertmanager-config.ts";
import { alertRuleGroups } from "../deploy/generate/alert-rules.ts";
import { collectorRuleGroups } from "../deploy/generate/collector-alerts.ts";
import { prometheusConfig } from "../deploy/generate/prometheus-config.ts";
import { toYaml, type YamlValue } from "../deploy/generate/yaml.ts";
import { GetNodeRequestSchema, QueryService } from "../shared/gen/clawfleet/v1/query_pb.ts";
import { createClient } from "../shared/grpc-adapter.ts";
import { E2E_ALERTMANAGER_TIMING, E2E_COLLECTOR_FOR_SECONDS, E2E_FOR_SECONDS } from "../test/e2e/e2e-timing.ts";
import { startAlertmanager, type TestAlertmanager } from "../test/helpers/alertmanager.ts";
import { startCollectorProcess } from "../test/helpers/collector.ts";
import { createGateway } from "../test/helpers/openclaw-gateway.ts";
import { baseEnv, CLAWFLEET_BIN, spawnProcess } from "../test/helpers/processes.ts";
import { startPrometheus } from "../test/helpers/prometheus.ts";
import { startWebhookReceiver, type WebhookAlert, type WebhookReceiver } from "../test/helpers/webhook-receiver.ts";
import { blackboxRuleGroups, blackboxScrapeJob, startBlackboxExporter } from "./peers/blackbox-exporter.ts";
import { median, runStandalone, type BenchOptions, type BenchResult, type BenchRow } from "./harness.ts";

/** One interval for everything Prometheus does, as the e2e test (test/e2e/e2e-timing.ts). */
const SCRAPE_SECONDS = 1;
/** `for:` of ClawfleetGatewayDown and of the blackbox rule alike (production: 2m; the e2e test: 60 s, to ride out restarts). */
const FOR_SECONDS = 5;
/** The agent's --interval: the shortest it takes, the same as the scrape interval, so neither side samples less often. */
const AGENT_INTERVAL_SECONDS = 1;
/** The blackbox module's timeout: under the scrape interval, as Prometheus requires of scrape_timeout. */
const PROBE_TIMEOUT_SECONDS = 0.9;
const NODE = "signal-01";
/** A second agent on the same gateway at the production default interval: what the watch between runs buys. */
const NODE_DEFAULT_INTERVAL = "signal-30s";
const DEFAULT_INTERVAL_SECONDS = 30;
/** Without the watch the 30 s agent would report within its interval; past it the row says "-" (missed), not a number. */
const SLOW_AGENT_TIMEOUT_MS = (DEFAULT_INTERVAL_SECONDS + 5) * 1000;
const BLACKBOX_JOB = "blackbox-gateway";
const OURS = "ClawfleetGatewayDown";
const PEER = "BlackboxProbeFailed";
const TOKEN = "bench-signal-token-6d2f9a1c7e3b5084";
const SIGNAL_TIMEOUT_MS = 60_000;

interface Repetition {
  /** Each from the fault (SIGTERM), ms. */
  portClosed: number;
  collectorState?: number;
  /** The agent at the default interval: its first report after the fault naming the gateway. */
  collectorStateDefaultInterval?: number;
  /** Prometheus' activeAt: the evaluation that first saw it (pending). */
  oursPending?: number;
  oursWebhook?: number;
  peerPending?: number;
  peerWebhook?: number;
  /** From the restart (spawn), ms: when /healthz and /readyz answered again, when each resolved webhook came. */
  healthzBack?: number;
  readyzBack?: number;
  oursResolved?: number;
  peerResolved?: number;
  said: { collector?: string; ours?: string; peer?: string };
  /** What each paged for during the cycle, fault to recovery. */
  pages?: { ours: string[]; peer: string[] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Prometheus' own view of its rules' alerts, with activeAt (the first evaluation that matched). */
async function activeAlerts(prometheusUrl: string): Promise<{ labels: Record<string, string>; state: string; activeAt?: string }[]> {
  const body = (await (await fetch(`${prometheusUrl}/api/v1/alerts`, { signal: AbortSignal.timeout(5000) })).json()) as { data: { alerts: { labels: Record<string, string>; state: string; activeAt?: string }[] } };
  return body.data.alerts;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

const portRefuses = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => (socket.destroy(), resolve(false)));
    socket.once("error", () => resolve(true));
  });

function firing(webhook: WebhookReceiver, alertname: string, sinceMs: number): Promise<{ atMs: number; alert: WebhookAlert }> {
  const match = (a: WebhookAlert) => a.labels.alertname === alertname && a.labels.node === NODE && a.status === "firing";
  return webhook
    .waitFor((n) => n.receivedAtMs >= sinceMs && n.alerts.some(match), SIGNAL_TIMEOUT_MS, `${alertname} firing`)
    .then((n) => ({ atMs: n.receivedAtMs, alert: n.alerts.find(match)! }));
}

/**
 * When Alertmanager first holds no active alert of that name for the node, at or after `back`
 * (the moment the gateway answered as that side checks it). Not "a resolved notification":
 * ClawfleetGatewayDown is one alert per code, and a gateway slower to start than for: resolves
 * not_running while not_listening or not_ready is still pending, a gap that is not recovery.
 */
async function quietAfter(alertmanager: TestAlertmanager, alertname: string, back: Promise<number>): Promise<number> {
  await back;
  return until(`${alertname} resolved in Alertmanager`, async () => {
    const active = (await alertmanager.alerts()).filter((a) => a.labels.alertname === alertname && a.labels.node === NODE);
    return active.length === 0 ? Date.now() : undefined;
  }, SIGNAL_TIMEOUT_MS, 100);
}

/** The codes (or instances) an alert fired for, in notifications since `sinceMs`: more than one is more than one page. */
function firedCodes(webhook: WebhookReceiver, alertname: string, sinceMs: number): string[] {
  const fired = webhook.notifications.filter((n) => n.receivedAtMs >= sinceMs).flatMap((n) => n.alerts).filter((a) => a.labels.alertname === alertname && a.labels.node === NODE && a.status === "firing");
  return [...new Set(fired.map((a) => a.labels.code ?? a.labels.instance ?? "?"))];
}

export async function bench(options: BenchOptions): Promise<BenchResult> {
  // Each cycle restarts the gateway (10-25 s on a busy 2-core machine): two keep the run near two minutes.
  const repetitions = options.quick ? 1 : 2;
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-signal-"));
  const load = [loadavg()[0]!];
  const webhook = await startWebhookReceiver();
  const gatewayStarted = createGateway({ token: TOKEN });
  const [alertmanager, collector, blackbox] = await Promise.all([
    startAlertmanager(toYaml(alertmanagerConfig({ webhookUrl: (receiver) => webhook.url(receiver), timing: E2E_ALERTMANAGER_TIMING }) as unknown as YamlValue)),
    startCollectorProcess(join(dir, "collector.db")),
    startBlackboxExporter(PROBE_TIMEOUT_SECONDS),
  ]);
  const gateway = await gatewayStarted.catch(async (error) => {
    await Promise.allSettled([alertmanager.stop(), collector.process.stop(), blackbox.stop(), webhook.stop()]);
    throw error;
  });
  const target = `http://127.0.0.1:${gateway.port}/healthz`;
  const config = prometheusConfig({
    collectors: [collector.httpAddress],
    alertmanagers: [alertmanager.address],
    ruleFiles: ["clawfleet-alerts.rules.yml", "clawfleet-collector.rules.yml", "blackbox.rules.yml"],
    scrapeIntervalSeconds: SCRAPE_SECONDS,
    evaluationIntervalSeconds: SCRAPE_SECONDS,
  });
  config.scrape_configs.push(blackboxScrapeJob(BLACKBOX_JOB, blackbox.address, target) as never);
  const prometheus = await startPrometheus({
    config: toYaml(config as unknown as YamlValue),
    files: {
      "clawfleet-alerts.rules.yml": toYaml(alertRuleGroups({ forSeconds: { ...E2E_FOR_SECONDS, [OURS]: FOR_SECONDS } }) as unknown as YamlValue),
      "clawfleet-collector.rules.yml": toYaml(collectorRuleGroups({ forSeconds: E2E_COLLECTOR_FOR_SECONDS }) as unknown as YamlValue),
      "blackbox.rules.yml": toYaml(blackboxRuleGroups(BLACKBOX_JOB, FOR_SECONDS, NODE) as unknown as YamlValue),
    },
  });
  // Not through spawnClawfleet: the no-write guard's snapshots would cost CPU the agent is timed against.
  const agent = spawnProcess(
    process.execPath,
    [CLAWFLEET_BIN, "agent", "run", "--insecure", "--collector", collector.grpcAddress, "--node-id", NODE, "--interval", `${AGENT_INTERVAL_SECONDS}s`, "--state-dir", join(dir, "agent")],
    { ...baseEnv(), ...gateway.clientEnv() },
  );
  const slowAgent = spawnProcess(
    process.execPath,
    [CLAWFLEET_BIN, "agent", "run", "--insecure", "--collector", collector.grpcAddress, "--node-id", NODE_DEFAULT_INTERVAL, "--interval", `${DEFAULT_INTERVAL_SECONDS}s`, "--state-dir", join(dir, "agent-30s")],
    { ...baseEnv(), ...gateway.clientEnv() },
  );
  const client = createClient(QueryService, collector.grpcAddress, grpc.credentials.createInsecure());
  const node = (nodeId = NODE) => client.getNode(create(GetNodeRequestSchema, { nodeId, limit: 1 }), { deadline: Date.now() + 2000 });
  const gatewayProblem = async () => (await node()).summary?.findings.find((f) => f.layer === "gateway");

  /** A report received after `sinceMs` says the gateway is fine, Prometheus probes it fine and neither alert is pending or firing. */
  async function healthy(sinceMs: number) {
    await until("a healthy report", async () => {
      const summary = (await node()).summary;
      return summary && Number(summary.lastReportUnixMs) > sinceMs && !summary.findings.some((f) => f.layer === "gateway") ? true : undefined;
    }, 90_000);
    await until("Prometheus sees both healthy", async () => {
      const probing = await prometheus.query(`probe_success{job="${BLACKBOX_JOB}"} == 1`);
      const ours = await prometheus.query(`max(clawfleet_layer_status{node="${NODE}", layer="gateway"}) == 0`);
      const alerts = await prometheus.query(`ALERTS{alertname=~"${OURS}|${PEER}"}`);
      return probing.length === 1 && ours.length === 1 && alerts.length === 0 ? true : undefined;
    }, 60_000);
  }

  const runs: Repetition[] = [];
  let cadence: { reports: number; seconds: number } | undefined;
  try {
    await healthy(0);
    const seqAtStart = { seq: (await node()).summary!.lastSeq, atMs: Date.now() };
    for (let r = 0; r < repetitions; r++) {
      if (r > 0) await sleep(3000); // past Alertmanager's group_interval: the last resolved groups are flushed and gone
      const faultAt = Date.now();
      gateway.process!.child.kill("SIGTERM");
      const closed = until("the port closes", async () => ((await portRefuses(gateway.port)) ? Date.now() : undefined), 30_000, 20);
      const state = until("the collector's state changes", async () => {
        const summary = (await node()).summary;
        const problem = summary?.findings.find((f) => f.layer === "gateway");
        return problem ? { atMs: Number(summary!.lastReportUnixMs), problem } : undefined;
      }, SIGNAL_TIMEOUT_MS, 50);
      const slowState = until("the default-interval agent's report", async () => {
        const summary = (await node(NODE_DEFAULT_INTERVAL)).summary;
        return summary && Number(summary.lastReportUnixMs) > faultAt && summary.findings.some((f) => f.layer === "gateway") ? { atMs: Number(summary.lastReportUnixMs) } : undefined;
      }, SLOW_AGENT_TIMEOUT_MS, 50);
      const [portClosedAt, changed, ours, peer, slowChanged] = await Promise.allSettled([closed, state, firing(webhook, OURS, faultAt), firing(webhook, PEER, faultAt), slowState]);
      const ms = (settled: PromiseSettledResult<{ atMs: number } | number>) =>
        settled.status === "fulfilled" ? (typeof settled.value === "number" ? settled.value : settled.value.atMs) - faultAt : undefined;
      // Still firing (the gateway is still down): Prometheus' activeAt is when each rule first matched.
      const active = await activeAlerts(prometheus.url);
      const pending = (name: string) => {
        const at = active.find((a) => a.labels.alertname === name && a.labels.node === NODE)?.activeAt;
        return at ? Date.parse(at) - faultAt : undefined;
      };
      const text = (settled: PromiseSettledResult<{ alert: WebhookAlert }>) =>
        settled.status === "fulfilled" ? `${JSON.stringify(settled.value.alert.labels)} summary: ${settled.value.alert.annotations.summary}; ${settled.value.alert.annotations.action ?? settled.value.alert.annotations.description ?? ""}`.replace(/\s+/g, " ") : `(none: ${(settled.reason as Error).message.split("\n")[0]})`;
      const run: Repetition = {
        portClosed: ms(portClosedAt) ?? NaN,
        collectorState: ms(changed),
        collectorStateDefaultInterval: ms(slowChanged),
        oursPending: pending(OURS),
        oursWebhook: ms(ours),
        peerPending: pending(PEER),
        peerWebhook: ms(peer),
        said: {
          collector: changed.status === "fulfilled" ? `${changed.value.problem.layer}/${changed.value.problem.code}: ${changed.value.problem.summary} → ${changed.value.problem.action}` : undefined,
          ours: text(ours),
          peer: text(peer),
        },
      };
      // Back up: resolution, from the restart. A second SIGTERM (gateway.stop) during its
      // own shutdown could cut that short and orphan its workers: wait for its exit first.
      await Promise.race([gateway.process!.exited, sleep(15_000)]);
      await gateway.stop();
      const restartAt = Date.now();
      const restarting = gateway.start();
      const answers = (path: string) => until(`${path} answers again`, async () => ((await fetch(`http://127.0.0.1:${gateway.port}${path}`, { signal: AbortSignal.timeout(500) })).ok ? Date.now() : undefined), 120_000, 100);
      // The agent calls the gateway back when /readyz says ready; the blackbox when /healthz answers.
      const healthz = answers("/healthz");
      const readyz = answers("/readyz");
      const [healthzBack, readyzBack, oursResolved, peerResolved] = await Promise.allSettled([healthz, readyz, quietAfter(alertmanager, OURS, readyz), quietAfter(alertmanager, PEER, healthz)]);
      const since = (settled: PromiseSettledResult<number>) => (settled.status === "fulfilled" ? settled.value - restartAt : undefined);
      run.healthzBack = since(healthzBack);
      run.readyzBack = since(readyzBack);
      run.oursResolved = since(oursResolved);
      run.peerResolved = since(peerResolved);
      await restarting;
      run.pages = { ours: firedCodes(webhook, OURS, faultAt), peer: firedCodes(webhook, PEER, faultAt) };
      runs.push(run);
      load.push(loadavg()[0]!);
      if (r < repetitions - 1) await healthy(Date.now());
    }
    const end = (await node()).summary!;
    cadence = { reports: Number(end.lastSeq - seqAtStart.seq), seconds: (Date.now() - seqAtStart.atMs) / 1000 };
  } finally {
    client.close();
    await Promise.allSettled([agent.stop(), slowAgent.stop()]);
    await Promise.allSettled([prometheus.stop(), alertmanager.stop(), collector.process.stop(), blackbox.stop(), webhook.stop(), gateway.cleanup()]);
    rmSync(dir, { recursive: true, force: true });
  }
  return result(runs, cadence, load);
}

function result(runs: Repetition[], cadence: { reports: number; seconds: number } | undefined, load: number[]): BenchResult {
  const seconds = (pick: (r: Repetition) => number | undefined) => {
    const xs = runs.map(pick).filter((x): x is number => x !== undefined && Number.isFinite(x));
    return xs.length > 0 ? median(xs) / 1000 : NaN;
  };
  const setting = `agent ${AGENT_INTERVAL_SECONDS}s, scrape/eval ${SCRAPE_SECONDS}s`;
  const peerName = "blackbox_exporter http probe";
  const rows: BenchRow[] = [
    { what: `gateway stopped → collector state (${setting})`, unit: "s", ours: seconds((r) => r.collectorState), better: "lower" },
    { what: `gateway stopped → collector state, agent at the default ${DEFAULT_INTERVAL_SECONDS}s interval (gateway watch between runs)`, unit: "s", ours: seconds((r) => r.collectorStateDefaultInterval), better: "lower" },
    { what: `gateway stopped → alert pending in Prometheus (${setting})`, unit: "s", ours: seconds((r) => r.oursPending), peer: seconds((r) => r.peerPending), peerName, better: "lower" },
    { what: `gateway stopped → webhook (for: ${FOR_SECONDS}s, group_wait ${E2E_ALERTMANAGER_TIMING.groupWaitSeconds}s)`, unit: "s", ours: seconds((r) => r.oursWebhook), peer: seconds((r) => r.peerWebhook), peerName, better: "lower" },
    { what: "gateway restarted → no alert active in Alertmanager", unit: "s", ours: seconds((r) => r.oursResolved), peer: seconds((r) => r.peerResolved), peerName, better: "lower" },
  ];
  const fmt = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? "-" : (ms / 1000).toFixed(1));
  const notes = [
    `median of ${runs.length} stop/start cycles of one real OpenClaw gateway; fault = SIGTERM to the gateway (its port closed ${runs.map((r) => fmt(r.portClosed)).join("/")} s later): a stopped gateway is what both sides can see; SIGSTOP would leave the port accepting and time both out instead`,
    ...runs.map((r, i) => `cycle ${i + 1} (s from SIGTERM): collector ${fmt(r.collectorState)} (${DEFAULT_INTERVAL_SECONDS}s agent ${fmt(r.collectorStateDefaultInterval)}), pending ours ${fmt(r.oursPending)} / blackbox ${fmt(r.peerPending)}, webhook ours ${fmt(r.oursWebhook)} / blackbox ${fmt(r.peerWebhook)}; from the restart: /healthz ${fmt(r.healthzBack)}, /readyz ${fmt(r.readyzBack)}, no alert active ours ${fmt(r.oursResolved)} / blackbox ${fmt(r.peerResolved)}; paged for: ours ${r.pages?.ours.join(", ") || "-"}, blackbox ${r.pages?.peer.length ?? 0}×`),
    `the same Prometheus (scrape and evaluation every ${SCRAPE_SECONDS}s) holds both rules with for: ${FOR_SECONDS}s, the same Alertmanager routes them (group_wait ${E2E_ALERTMANAGER_TIMING.groupWaitSeconds}s, separate groups); the blackbox probes /healthz with a ${PROBE_TIMEOUT_SECONDS}s timeout`,
    `agent --interval ${AGENT_INTERVAL_SECONDS}s (jittered ±10%), measured ${cadence ? (cadence.seconds / Math.max(1, cadence.reports)).toFixed(2) : "?"} s per report (a run waits for its slowest check); between runs the agent watches the gateway's pid (signal 0 every second, agent/run/gateway-watch.ts) and checks at once when it exits, so the ${DEFAULT_INTERVAL_SECONDS}s agent does not wait for its next interval`,
    "ours resolves later by design: the agent calls the gateway back at /readyz (the blackbox at /healthz, which answers seconds earlier while the gateway still starts), and ClawfleetGatewayDown holds a code seen within its for: window (max_over_time)",
    `ClawfleetGatewayDown is one alert per code: a restart slower than for: (${FOR_SECONDS}s here, 2m in production) pages again for each code the start passes through (not_running, not_listening, not_ready), the blackbox once`,
    `the first report after SIGTERM may say not_listening (the process still shuts down, its port already closed), the next not_running; the page carries the code held when it fired`,
    `what the collector said: ${runs[0]?.said.collector ?? "-"}`,
    `what ours paged with: ${runs[0]?.said.ours ?? "-"}`,
    `what the blackbox paged with: ${runs[0]?.said.peer ?? "-"} (the reason the probe failed is only in the exporter's debug log)`,
    `machine load (1-min average) during the run: ${load.map((l) => l.toFixed(1)).join(", ")} on 2 cores; wall times, so a busy machine stretches the agent's run and the probe alike`,
  ];
  return { name: "time-to-signal", rows, notes };
}

if (import.meta.main) await runStandalone("time-to-signal", bench);
