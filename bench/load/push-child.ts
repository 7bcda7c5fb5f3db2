// One push-load process for bench/ingest.ts: its share of the groups PUT to a
// Pushgateway over keep-alive HTTP/1.1. `populate` pushes every group once over
// `connections` connections and says "ready"; otherwise each group is its own
// client (as each node is on our side), pushing again as soon as its last push
// answered, until "stop".
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { LatencySample } from "./child-ipc.ts";

const config = JSON.parse(process.argv[2]!) as { url: string; groupsFile: string; connections?: number; populate?: boolean };
const groups = JSON.parse(readFileSync(config.groupsFile, "utf8")) as { path: string; body: string }[];
const target = new URL(config.url);
const agent = new Agent({ keepAlive: true, maxSockets: config.populate ? (config.connections ?? 64) : groups.length });
let stopped = false;
let done = 0;
let errors = 0;
const errorKinds: Record<string, number> = {};
let window: LatencySample | undefined;

function push(group: { path: string; body: string }): Promise<void> {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = request({ host: target.hostname, port: target.port, path: group.path, method: "PUT", agent, headers: { "content-type": "text/plain; version=0.0.4" } }, (res) => {
      res.resume();
      res.on("end", () => {
        if (res.statusCode === 200 || res.statusCode === 202) {
          done++;
          window?.add(performance.now() - started);
        } else {
          errors++;
          errorKinds[`HTTP ${res.statusCode}`] = (errorKinds[`HTTP ${res.statusCode}`] ?? 0) + 1;
        }
        resolve();
      });
    });
    req.on("error", (error) => {
      if (!stopped) {
        errors++;
        errorKinds[error.message] = (errorKinds[error.message] ?? 0) + 1;
      }
      resolve();
    });
    req.end(group.body);
  });
}

let next = 0;
async function populateLoop(): Promise<void> {
  while (!stopped && next < groups.length) await push(groups[next++]!);
}
async function clientLoop(group: { path: string; body: string }): Promise<void> {
  while (!stopped) await push(group);
}

if (config.populate) {
  await Promise.all(Array.from({ length: config.connections ?? 64 }, () => populateLoop()));
  process.send!({ type: "ready", pushed: done, errors });
} else {
  void Promise.all(groups.map((group) => clientLoop(group)));
  process.send!({ type: "ready" });
}
let startDone = 0;
let startErrors = 0;
process.on("message", (m: { type: string }) => {
  if (m.type === "window-start") {
    window = new LatencySample();
    startDone = done;
    startErrors = errors;
  } else if (m.type === "window-end") {
    process.send!({ type: "window-stats", stats: { done: done - startDone, latenciesMs: window?.values ?? [], errors: errors - startErrors, errorKinds } });
    window = undefined;
  } else if (m.type === "stop") {
    stopped = true;
    agent.destroy();
    setTimeout(() => process.exit(0), 100);
  }
});
