// mTLS between agents, operators and the collector, against a real collector
// over real TLS on loopback: who may connect, as whom, and what a revocation
// or an expiry does to a live stream.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCollector, type RunningCollector } from "../../collector/collector.ts";
import { openTrust } from "../../collector/pki/collector-security.ts";
import { AgentService, ConnectRequestSchema, type ConnectResponse } from "../../shared/gen/clawfleet/v1/agent_pb.ts";
import { ListNodesRequestSchema, QueryService } from "../../shared/gen/clawfleet/v1/query_pb.ts";
import { createClient } from "../../shared/grpc-adapter.ts";
import { createLogger } from "../../shared/log.ts";
import { enroll, EnrollError } from "../../shared/pki/enroll-client.ts";
import type { StoredIdentity } from "../../shared/pki/identity-files.ts";
import { healthyFindings, startSimulatedAgent } from "../helpers/agent-simulator.ts";
import { channelFor, enrollIdentity, enrollmentToken } from "../helpers/enrollment.ts";
import { scrape, series } from "../helpers/metrics.ts";

describe("mTLS: identity is the certificate", () => {
  let dir: string;
  let collector: RunningCollector;
  let pkiDir: string;
  let node1: StoredIdentity;
  let node2: StoredIdentity;
  let operator: StoredIdentity;
  const logs = new PassThrough();
  let logText = "";
  logs.on("data", (chunk) => (logText += chunk));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-mtls-"));
    pkiDir = join(dir, "pki");
    collector = await startCollector({ grpcListen: { host: "127.0.0.1", port: 0 }, httpListen: { host: "127.0.0.1", port: 0 }, dbPath: join(dir, "c.db"), log: createLogger("collector", logs) });
    node1 = await enrollIdentity({ pkiDir, address: collector.grpcAddress, name: "mini-01", dir: join(dir, "n1") });
    node2 = await enrollIdentity({ pkiDir, address: collector.grpcAddress, name: "mini-02", dir: join(dir, "n2") });
    operator = await enrollIdentity({ pkiDir, address: collector.grpcAddress, name: "alice", role: "operator", dir: join(dir, "op") });
  });
  afterAll(async () => {
    await collector.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const rejected = async (reason: string) => (await scrape(collector.httpAddress)).get(series("clawfleet_collector_rejected_total", { reason })) ?? 0;

  /** Opens a Connect stream with `channel`, says hello as `nodeId`; resolves with the welcome or the error. */
  function hello(channel: { credentials: grpc.ChannelCredentials; options?: grpc.ClientOptions }, nodeId: string): Promise<{ welcome?: ConnectResponse; error?: grpc.ServiceError }> {
    const client = createClient(AgentService, collector.grpcAddress, channel.credentials, channel.options);
    const stream = client.connect();
    return new Promise((resolve) => {
      const done = (result: { welcome?: ConnectResponse; error?: grpc.ServiceError }) => {
        stream.cancel();
        client.close();
        resolve(result);
      };
      stream.on("data", (message: ConnectResponse) => done({ welcome: message }));
      stream.on("error", (error: grpc.ServiceError) => done({ error }));
      stream.write(create(ConnectRequestSchema, { message: { case: "hello", value: { node: { nodeId, hostname: "attacker", platform: "linux", agentVersion: "x" } } } }));
    });
  }

  it("keeps the CA key, the collector key and each node key private (0600) and the PKI directory 0700", () => {
    expect(statSync(pkiDir).mode & 0o777).toBe(0o700);
    for (const file of ["ca.key", "collector.key"]) expect(statSync(join(pkiDir, file)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "n1", "identity.pem")).mode & 0o777).toBe(0o600);
    expect(node1).toMatchObject({ name: "mini-01", role: "node" });
    expect(operator).toMatchObject({ name: "alice", role: "operator" });
  });

  it("welcomes an enrolled node as itself, with the fleet key", async () => {
    const { welcome } = await hello(channelFor(node1), "mini-01");
    expect(welcome?.message.case).toBe("welcome");
    expect(welcome?.message.case === "welcome" && welcome.message.value.fingerprintKey.length).toBe(32);
  });

  it("refuses a node that says hello as another node, creates nothing, and counts it", async () => {
    const before = await rejected("identity_mismatch");
    const { welcome, error } = await hello(channelFor(node2), "mini-01");
    expect(welcome).toBeUndefined();
    expect(error?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(error?.details).toMatch(/"mini-01" is not this certificate's node "mini-02"/);
    const { welcome: ghost } = await hello(channelFor(node2), "ghost-99");
    expect(ghost).toBeUndefined();
    expect(await rejected("identity_mismatch")).toBe(before + 2);
    const query = createClient(QueryService, collector.grpcAddress, channelFor(operator).credentials, channelFor(operator).options);
    const nodes = (await query.listNodes(create(ListNodesRequestSchema, {}))).nodes.map((n) => n.node?.nodeId);
    query.close();
    expect(nodes).not.toContain("ghost-99");
  });

  it("gives no fleet key and no fleet data to a peer without a certificate", async () => {
    const anonymous = { credentials: grpc.credentials.createSsl(Buffer.from(node1.caPem)), options: channelFor(node1).options };
    const { welcome, error } = await hello(anonymous, "mini-01");
    expect(welcome).toBeUndefined();
    expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
    const query = createClient(QueryService, collector.grpcAddress, anonymous.credentials, anonymous.options);
    await expect(query.listNodes(create(ListNodesRequestSchema, {}))).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    query.close();
    // Plaintext does not even get a TLS handshake.
    const plain = createClient(QueryService, collector.grpcAddress, grpc.credentials.createInsecure());
    await expect(plain.listNodes(create(ListNodesRequestSchema, {}), { deadline: Date.now() + 3000 })).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    plain.close();
    expect(await rejected("no_certificate")).toBeGreaterThanOrEqual(2);
  });

  it("lets operators read and only operators: a node certificate cannot query, an operator cannot report", async () => {
    const asNode = createClient(QueryService, collector.grpcAddress, channelFor(node1).credentials, channelFor(node1).options);
    await expect(asNode.listNodes(create(ListNodesRequestSchema, {}))).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    asNode.close();
    const { error } = await hello(channelFor(operator), "alice");
    expect(error?.code).toBe(grpc.status.PERMISSION_DENIED);
    const asOperator = createClient(QueryService, collector.grpcAddress, channelFor(operator).credentials, channelFor(operator).options);
    await expect(asOperator.listNodes(create(ListNodesRequestSchema, {}))).resolves.toBeDefined();
    asOperator.close();
  });

  it("uses a token once, and refuses a token for a collector with another CA before sending it anything", async () => {
    const token = await enrollmentToken(pkiDir, "mini-03");
    const [host, port] = [collector.grpcAddress.split(":")[0]!, Number(collector.grpcAddress.split(":")[1])];
    await enroll({ address: collector.grpcAddress, host, port, token, dir: join(dir, "n3") });
    await expect(enroll({ address: collector.grpcAddress, host, port, token, dir: join(dir, "n3b") })).rejects.toThrow(/token refused/);
    // The same token shape pinned to some other CA: the client stops at the pin check.
    const otherPin = token.replace(/\.[A-Za-z0-9_-]{43}$/, `.${"A".repeat(43)}`);
    await expect(enroll({ address: collector.grpcAddress, host, port, token: otherPin, dir: join(dir, "n3c") })).rejects.toThrow(EnrollError);
    await expect(enroll({ address: collector.grpcAddress, host, port, token: otherPin, dir: join(dir, "n3c") })).rejects.toThrow(/does not hold the CA this token was made for/);
    expect(await rejected("token_used")).toBe(1);
  });

  it("ends a revoked node's live stream within seconds and refuses it from then on", async () => {
    const node4 = await enrollIdentity({ pkiDir, address: collector.grpcAddress, name: "mini-04", dir: join(dir, "n4") });
    const agent = startSimulatedAgent({ collector: collector.grpcAddress, nodeId: "mini-04", maySleep: false, findings: healthyFindings(), intervalMs: 200, channel: channelFor(node4) });
    await agent.connected;
    const ended = new Promise<number>((resolve) => {
      const started = Date.now();
      const poll = setInterval(async () => {
        const samples = await scrape(collector.httpAddress);
        if (samples.get(series("clawfleet_node_up", { node: "mini-04" })) === 0) {
          clearInterval(poll);
          resolve(Date.now() - started);
        }
      }, 100);
    });
    // What `clawfleet collector revoke mini-04` does: another process writes the trust store.
    const { trust } = await openTrust(pkiDir);
    expect(trust.revoke("mini-04", "node")).toBe(1);
    trust.close();
    const elapsed = await ended;
    agent.stop();
    expect(elapsed).toBeLessThan(3000);
    const { error } = await hello(channelFor(node4), "mini-04");
    expect(error?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(error?.details).toMatch(/revoked/);
    expect(logText).toMatch(/ending agent stream node=mini-04 reason=revoked/);
  });

  it("serves the fleet page only on loopback, and /metrics wherever asked", async () => {
    // Bound to every address, reached over loopback only: the page is not served there; metrics are.
    const wide = await startCollector({
      grpcListen: { host: "127.0.0.1", port: 0 },
      httpListen: { host: "0.0.0.0", port: 0 },
      metricsListen: { host: "127.0.0.2", port: 0 },
      dbPath: join(dir, "wide.db"),
      log: createLogger("collector", new PassThrough()),
    });
    try {
      expect(wide.pageServed).toBe(false);
      const port = wide.httpAddress.split(":").pop();
      const root = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      expect(root).not.toContain("<html");
      expect(await (await fetch(`http://127.0.0.1:${port}/node/mini-01`)).status).toBe(404);
      expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain("clawfleet_collector_streams");
      expect(await (await fetch(`http://${wide.metricsAddress}/metrics`)).text()).toContain("clawfleet_collector_streams");
      expect(await (await fetch(`http://${wide.metricsAddress}/`)).text()).not.toContain("<html");
      expect(collector.pageServed).toBe(true);
      expect(await (await fetch(`http://${collector.httpAddress}/`)).text()).toContain("<html");
    } finally {
      await wide.stop();
    }
  });

  it("refuses --insecure on an address that is not loopback", async () => {
    await expect(startCollector({ grpcListen: { host: "0.0.0.0", port: 0 }, httpListen: { host: "127.0.0.1", port: 0 }, dbPath: join(dir, "x.db"), insecure: true })).rejects.toThrow(/listens on loopback only/);
  });
});
