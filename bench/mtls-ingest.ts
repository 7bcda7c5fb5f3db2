// What mTLS costs the collector at fleet scale: N agents, one connection each
// (as real hosts have), against a real `collector serve` once in plaintext
// (--insecure) and once with mTLS and N enrolled certificates, in one run.
// Prints connect time, sustained ingest, collector CPU per 1,000 reports and
// RSS for both, and the mTLS/plaintext ratios.
//   npx node bench/mtls-ingest.ts [nodes] [reports per node per second]   (default 10000, 0 = as fast as acks allow)
// Flat out, the generator (one process, every agent's TLS) saturates this machine before the collector does:
// its event-loop lag is printed, and past the collector's 5 s keepalive timeout its connections are dropped.
import * as grpcJs from "@grpc/grpc-js";
import { mkdtempSync, rmSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Authority } from "../collector/pki/authority.ts";
import { TrustStore } from "../collector/pki/trust-store.ts";
import { collectorCredentials, COLLECTOR_CHANNEL_OPTIONS } from "../shared/pki/collector-channel.ts";
import { createCsr, newKeyPair, privateKeyPem } from "../shared/pki/x509.ts";
import { fleetFromOneAddress, startLoad } from "../test/helpers/load-generator.ts";
import { parseExposition } from "../test/helpers/metrics.ts";
import { freePort } from "../test/helpers/ports.ts";
import { spawnClawfleet } from "../test/helpers/processes.ts";

const nodes = Number(process.argv[2] ?? 10_000);
const ratePerNode = Number(process.argv[3] ?? 0);
const PREFIX = "bench";
const CONNECT_PER_SECOND = 1000;
const nodeName = (i: number) => `${PREFIX}-${String(i).padStart(5, "0")}`;

/** Certificates for every node, issued by the collector's CA as enrollment would (the enrollment RPC itself is not what is measured). */
async function mintIdentities(pkiDir: string, count: number) {
  const authority = await Authority.open(pkiDir);
  const trust = new TrustStore(join(pkiDir, "trust.db"));
  const identities = [];
  for (let i = 0; i < count; i++) {
    const keys = await newKeyPair();
    const issued = await authority.issue(await createCsr(nodeName(i), keys), nodeName(i), "node", 86_400_000);
    trust.recordCertificate({ serial: issued.serial, name: nodeName(i), role: "node", issuedMs: Date.now(), notAfterMs: issued.notAfterMs });
    identities.push({ caPem: authority.caPem, keyPem: await privateKeyPem(keys.privateKey), certificatePem: issued.certificatePem });
  }
  trust.close();
  return identities;
}

async function scrapeSamples(http: string) {
  return parseExposition(await (await fetch(`http://${http}/metrics`)).text());
}

async function run(mode: "plaintext" | "mtls") {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-mtls-bench-"));
  const grpc = `127.0.0.1:${await freePort()}`;
  const http = `127.0.0.1:${await freePort()}`;
  const args = ["collector", "serve", "--grpc-listen", grpc, "--http-listen", http, "--db", join(dir, "c.db"), ...fleetFromOneAddress(nodes), ...(mode === "plaintext" ? ["--insecure"] : [])];
  const collector = spawnClawfleet(args);
  await collector.waitFor(/collector ready/);
  try {
    const mintStarted = performance.now();
    const identities = mode === "mtls" ? await mintIdentities(join(dir, "pki"), nodes) : [];
    const mintMs = performance.now() - mintStarted;
    // The generator shares the machine: if its own event loop stalls past the collector's keepalive timeout (5 s),
    // the collector rightly drops those connections. Its lag is printed so a drop can be told from a collector fault.
    const lag = monitorEventLoopDelay({ resolution: 20 });
    lag.enable();
    const connectStarted = performance.now();
    const load = startLoad({
      collector: grpc,
      nodes,
      ratePerNode,
      inflight: 2,
      nodePrefix: PREFIX,
      // The same pace for both modes, so connect times compare; a restarted collector sees its fleet back over ~30 s of jittered backoff.
      connectPerSecond: CONNECT_PER_SECOND,
      tolerateRefusals: true,
      channelFor: (i) => (mode === "mtls" ? { credentials: collectorCredentials(identities[i]!), options: COLLECTOR_CHANNEL_OPTIONS } : { credentials: grpcJs.credentials.createInsecure() }),
    });
    await load.welcomed;
    const connectMs = performance.now() - connectStarted;
    await new Promise((r) => setTimeout(r, 3000));
    const before = { acks: load.ackCount, cpu: (await scrapeSamples(http)).get("clawfleet_collector_cpu_seconds_total")! };
    const windowStarted = performance.now();
    await new Promise((r) => setTimeout(r, 10_000));
    const after = { acks: load.ackCount, samples: await scrapeSamples(http) };
    const seconds = (performance.now() - windowStarted) / 1000;
    load.stop();
    const reports = after.acks - before.acks;
    const cpu = after.samples.get("clawfleet_collector_cpu_seconds_total")! - before.cpu;
    const result = {
      mode,
      connectS: connectMs / 1000,
      ingestPerS: reports / seconds,
      cpuMsPer1000: (cpu * 1000 * 1000) / reports,
      cores: cpu / seconds,
      rssMb: after.samples.get("clawfleet_collector_resident_memory_bytes")! / 1e6,
      errors: load.errors,
    };
    console.log(
      `${mode.padEnd(9)} ${nodes} nodes: connected in ${result.connectS.toFixed(1)} s; ingest ${result.ingestPerS.toFixed(0)} reports/s; ` +
        `collector CPU ${result.cpuMsPer1000.toFixed(0)} ms per 1,000 reports (${result.cores.toFixed(2)} cores); RSS ${result.rssMb.toFixed(0)} MB; ${result.errors} stream errors` +
        (mode === "mtls" ? ` (minting ${nodes} certificates took ${(mintMs / 1000).toFixed(1)} s, not counted)` : ""),
    );
    lag.disable();
    if (load.notWelcomed > 0) console.log(`  ${load.notWelcomed} of ${nodes} nodes were never welcomed`);
    console.log(`  generator event-loop lag: p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms, max ${(lag.max / 1e6).toFixed(0)} ms`);
    if (load.errorKinds.size > 0) console.log(`  stream errors: ${[...load.errorKinds].map(([why, n]) => `${n}× ${why}`).join("; ")}`);
    return result;
  } finally {
    await collector.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const plain = await run("plaintext");
const tls = await run("mtls");
console.log(
  `mTLS/plaintext: connect ${(tls.connectS / plain.connectS).toFixed(2)}x, ingest ${(tls.ingestPerS / plain.ingestPerS).toFixed(2)}x, ` +
    `CPU per report ${(tls.cpuMsPer1000 / plain.cpuMsPer1000).toFixed(2)}x, RSS ${(tls.rssMb / plain.rssMb).toFixed(2)}x`,
);
process.exit(0);
