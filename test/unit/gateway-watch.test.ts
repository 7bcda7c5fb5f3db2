// The watch between runs, against real processes and a real listener: the
// gateway's exit and its port listening again each trigger one run, and a live
// gateway or a still-closed port triggers none.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { GatewayWatch } from "../../agent/run/gateway-watch.ts";
import { freePort } from "../helpers/ports.ts";

const EVERY_MS = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process listening on `port`, as a gateway would; resolves once it listens. */
async function listeningProcess(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["-e", `require("node:net").createServer().listen(${port}, "127.0.0.1", () => console.log("up"))`], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`listener exited ${code}`)));
  });
  return child;
}

describe("gateway watch between runs", () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  function watching(): { watch: GatewayWatch; edges: string[] } {
    const edges: string[] = [];
    const watch = new GatewayWatch((reason) => edges.push(reason), EVERY_MS);
    watch.start();
    cleanups.push(() => watch.stop());
    return { watch, edges };
  }

  it("triggers one run when the listening gateway's process exits, none while it lives", async () => {
    const port = await freePort();
    const gateway = await listeningProcess(port);
    cleanups.push(() => gateway.kill("SIGKILL"));
    const { watch, edges } = watching();
    watch.observe(port, { listenAddresses: ["127.0.0.1"], pid: gateway.pid });
    await sleep(5 * EVERY_MS);
    expect(edges).toEqual([]);

    const killedAt = performance.now();
    gateway.kill("SIGTERM");
    while (edges.length === 0 && performance.now() - killedAt < 3000) await sleep(10);
    expect(edges).toEqual([`gateway pid ${gateway.pid} exited`]);
    expect(performance.now() - killedAt).toBeLessThan(1000);
    // Once per run: nothing more until a run observes again.
    await sleep(5 * EVERY_MS);
    expect(edges).toHaveLength(1);
  });

  it("triggers one run when the port it found closed listens again, none while it stays closed", async () => {
    const port = await freePort();
    const { watch, edges } = watching();
    watch.observe(port, { listenAddresses: [] });
    await sleep(5 * EVERY_MS);
    expect(edges).toEqual([]);

    const server: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    cleanups.push(() => server.close());
    const listeningAt = performance.now();
    while (edges.length === 0 && performance.now() - listeningAt < 3000) await sleep(10);
    expect(edges).toEqual([`something listens on port ${port} again`]);
    await sleep(5 * EVERY_MS);
    expect(edges).toHaveLength(1);
  });

  it("does not watch what the last run could not see: no pid, or no observation", async () => {
    const port = await freePort();
    const gateway = await listeningProcess(port);
    cleanups.push(() => gateway.kill("SIGKILL"));
    const { watch, edges } = watching();
    // Another user's listener: the run saw the socket but not its pid.
    watch.observe(port, { listenAddresses: ["127.0.0.1"] });
    gateway.kill("SIGKILL");
    await sleep(5 * EVERY_MS);
    expect(edges).toEqual([]);
    watch.observe(port, undefined);
    await sleep(3 * EVERY_MS);
    expect(edges).toEqual([]);
  });

  it("does not take a listener the run could not see (another user's socket) for one coming back", async () => {
    const port = await freePort();
    const server: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    cleanups.push(() => server.close());
    const { watch, edges } = watching();
    // The run saw no listener (lsof cannot show another user's sockets), yet connects succeed.
    watch.observe(port, { listenAddresses: [] });
    await sleep(8 * EVERY_MS);
    expect(edges).toEqual([]);
  });
});
