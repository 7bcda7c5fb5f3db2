// A real OpenClaw gateway (the pinned npm package under test/openclaw), hermetic:
// its own HOME and state dir, loopback only, ready when /readyz says so.
import { mkdtempSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { snapshotTree } from "./host-snapshot.ts";
import { harnessChange, registerGateway, unexplainedChanges } from "./openclaw-host-guard.ts";
import { freePort } from "./ports.ts";
import { baseEnv, spawnProcess, type Spawned } from "./processes.ts";

export const OPENCLAW_ENTRY = fileURLToPath(new URL("../openclaw/node_modules/openclaw/openclaw.mjs", import.meta.url));

/** A fake OpenAI key (the default model's provider in 2026.9.6), so a healthy test gateway has a provider credential. */
export const TEST_PROVIDER_KEY = "sk-test-clawfleet-not-a-real-key-4f8e2a";

export interface GatewayOptions {
  token: string;
  /**
   * Put OPENAI_API_KEY in the state dir's .env, where OpenClaw's docs put provider
   * keys and where both the gateway and the CLI read it (default true).
   */
  providerKey?: boolean;
  /** openclaw.json contents (JSON); omitted means no config file. */
  config?: Record<string, unknown>;
}

export interface TestGateway {
  port: number;
  home: string;
  stateDir: string;
  token: string;
  /** The environment a CLI on this host would have to reach this gateway. */
  clientEnv(token?: string): NodeJS.ProcessEnv;
  process?: Spawned;
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * After a test edits the state dir as an operator would: waits until the
   * gateway has reacted (its config watcher rewrites openclaw.json.last-good
   * ~300 ms after an edit), so the next agent run starts from still files.
   * With `startedAt` (a process started then): also until its Control UI
   * asset cache is prepared (see controlUiPrepared).
   */
  settle(startedAt?: number): Promise<void>;
  /** An operator's edit while agents may run: the edit and the gateway's reaction are not the agent's (openclaw-host-guard.ts). */
  edit(change: () => void | Promise<void>): Promise<void>;
  cleanup(): Promise<void>;
}

export async function createGateway(options: GatewayOptions): Promise<TestGateway> {
  const home = mkdtempSync(join(tmpdir(), "clawfleet-gw-"));
  const stateDir = join(home, ".openclaw");
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  if (options.config) writeFileSync(join(stateDir, "openclaw.json"), JSON.stringify(options.config, null, 2), { mode: 0o600 });
  if (options.providerKey !== false) writeFileSync(join(stateDir, ".env"), `OPENAI_API_KEY=${TEST_PROVIDER_KEY}\n`, { mode: 0o600 });
  const port = await freePort();
  let unregister = () => {};

  const gateway: TestGateway = {
    port,
    home,
    stateDir,
    token: options.token,
    clientEnv(token = options.token) {
      return { HOME: home, OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_PORT: String(port), OPENCLAW_GATEWAY_TOKEN: token };
    },
    async start() {
      await harnessChange(stateDir, async () => {
        const startedAt = Date.now();
        const env = { ...baseEnv(), ...gateway.clientEnv(), OPENCLAW_GATEWAY_TOKEN: options.token };
        gateway.process = spawnProcess(process.execPath, [OPENCLAW_ENTRY, "gateway", "run", "--port", String(port), "--auth", "token", "--bind", "loopback", "--allow-unconfigured"], env, home);
        unregister();
        unregister = registerGateway(stateDir, () => gateway.process?.child.pid);
        await waitReady(port, gateway.process);
        await waitSettled(stateDir, 1500, startedAt);
      });
    },
    async stop() {
      await harnessChange(stateDir, async () => {
        await gateway.process?.stop("SIGTERM");
        gateway.process = undefined;
      });
    },
    async settle(startedAt) {
      if (gateway.process) await harnessChange(stateDir, () => waitSettled(stateDir, 2000, startedAt));
    },
    async edit(change) {
      await harnessChange(stateDir, async () => {
        await change();
        if (gateway.process) await waitSettled(stateDir, 2000);
      });
    },
    async cleanup() {
      await gateway.stop();
      unregister();
      harnessChange(stateDir, () => rmSync(home, { recursive: true, force: true }));
    },
  };
  await gateway.start();
  return gateway;
}

/**
 * After /readyz the gateway still unpacks its Control UI assets into the state
 * dir for a few seconds: a scenario starts once the dir has been still for
 * `quietMs` (apart from the SQLite files the gateway holds open), so what
 * changes during an agent run is not the gateway's own start-up or reaction.
 */
async function waitSettled(stateDir: string, quietMs: number, startedAt?: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let previous = snapshotTree(stateDir);
  let stillSince = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    const now = snapshotTree(stateDir);
    if (unexplainedChanges(stateDir, previous, now).length > 0) stillSince = Date.now();
    previous = now;
    if (Date.now() - stillSince >= quietMs && (startedAt === undefined || controlUiPrepared(stateDir, startedAt))) return;
  }
  throw new Error(`the gateway's state dir ${stateDir} was still changing ${timeoutMs} ms after it was ready`);
}

/**
 * The gateway prepares its Control UI asset cache in the background
 * (server-start publishGeneration, openclaw 2026.9.6): it stages the files,
 * renames the staging dir to the generation's name, verifies all ~3000 files
 * (seconds on a busy machine) and only then utimes() the generation dir. Done
 * when a generation dir was stamped after this start and after the rename
 * (the cache dir's own mtime); no cache dir means nothing to prepare.
 */
function controlUiPrepared(stateDir: string, startedAt: number): boolean {
  const cacheDir = join(stateDir, "cache", "control-ui-assets");
  let names: string[];
  let cacheMtime: number;
  try {
    names = readdirSync(cacheDir);
    cacheMtime = statSync(cacheDir).mtimeMs;
  } catch {
    return true;
  }
  if (names.some((n) => n.startsWith(".staging-"))) return false;
  return names.some((n) => {
    const mtime = statSync(join(cacheDir, n), { throwIfNoEntry: false })?.mtimeMs ?? 0;
    return mtime >= startedAt && mtime >= cacheMtime;
  });
}

/** A gateway started the way a service starts it (`gateway run --port N`, no flags), in a fresh home. */
export interface ServiceGateway {
  home: string;
  stateDir: string;
  port: number;
  argv: string[];
  process?: Spawned;
  /** Spawns it with `env` on top of the hermetic base and waits until it serves and has settled. */
  start(env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * A fresh home whose state dir holds `config` (and `files`), and the command a
 * service runs there: `gateway run --port P`, no --bind/--auth/--allow-unconfigured,
 * so the config decides.
 */
async function serviceHome(config: object, files: Record<string, string> = {}, port?: number) {
  const home = mkdtempSync(join(tmpdir(), "clawfleet-gw-"));
  const stateDir = join(home, ".openclaw");
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(stateDir, "openclaw.json"), JSON.stringify(config, null, 2), { mode: 0o600 });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(stateDir, name), content, { mode: 0o600 });
  port ??= await freePort();
  const agentEnv = () => ({ HOME: home, OPENCLAW_STATE_DIR: stateDir, OPENCLAW_GATEWAY_PORT: String(port) });
  return { home, stateDir, port, agentEnv, argv: [OPENCLAW_ENTRY, "gateway", "run", "--port", String(port)], gatewayEnv: (extra: NodeJS.ProcessEnv = {}) => ({ ...baseEnv(), ...agentEnv(), ...extra }) };
}

export async function serviceGateway(config: object, files: Record<string, string> = {}): Promise<ServiceGateway> {
  const { home, stateDir, port, argv, gatewayEnv } = await serviceHome(config, files);
  const gateway: ServiceGateway = {
    home,
    stateDir,
    port,
    argv,
    async start(env, timeoutMs = 150_000) {
      const startedAt = Date.now();
      gateway.process = spawnProcess(process.execPath, argv, gatewayEnv(env), home);
      await waitServing(port, gateway.process, stateDir, startedAt, timeoutMs);
    },
    async cleanup() {
      await gateway.process?.stop("SIGTERM");
      rmSync(home, { recursive: true, force: true });
    },
  };
  return gateway;
}

/**
 * For a gateway a test spawned itself (as a service would start it): ready, then
 * settled like createGateway's, with its own start-up writes excused by the
 * no-write guard and its open files known to it. Returns the unregistering call.
 */
export async function waitServing(port: number, gateway: Spawned, stateDir: string, startedAt: number, timeoutMs = 90_000): Promise<() => void> {
  const unregister = registerGateway(stateDir, () => gateway.child.pid);
  await harnessChange(stateDir, async () => {
    await waitReady(port, gateway, timeoutMs);
    await waitSettled(stateDir, 1500, startedAt);
  });
  return unregister;
}

/**
 * Polls /readyz; the gateway takes ~5–10 s to get there on 2 cores. (Its own log
 * says nothing here: OpenClaw's logger is silent when VITEST=true, dist/logger-*.mjs.)
 */
export async function waitReady(port: number, process: Spawned, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (process.child.exitCode !== null) throw new Error(`openclaw gateway exited (${process.child.exitCode}):\n${process.stderr.slice(-4000)}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (response.ok && ((await response.json()) as { ready?: boolean }).ready) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`openclaw gateway on ${port} not ready after ${timeoutMs} ms:\n${process.stderr.slice(-4000)}`);
}

export interface RefusingGatewayOptions {
  /** openclaw.json contents: the broken state. */
  config: Record<string, unknown>;
  /** Extra environment for the gateway (its token, say); no OPENCLAW_GATEWAY_TOKEN unless given here. */
  env?: Record<string, string>;
  /** The gateway's refusal: waited for in its output (or its exit, whichever comes first). */
  until: RegExp;
  /** A port chosen by the test (one something else holds). */
  port?: number;
  timeoutMs?: number;
}

export interface RefusedGateway {
  port: number;
  home: string;
  stateDir: string;
  /** What the gateway printed, stdout then stderr: its log for this start. */
  output: string;
  /** An agent's environment on this host: the state dir and port, no token. */
  agentEnv(): NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

/**
 * The real gateway in a state it refuses to start in, started as a service
 * starts it (`gateway run --port P`: no --bind/--auth/--allow-unconfigured, so
 * the config decides, which is what is under test). Resolves once it has said
 * why (`until`) and is stopped: a supervisor would restart it into the same refusal.
 */
export async function runRefusingGateway(options: RefusingGatewayOptions): Promise<RefusedGateway> {
  const { home, stateDir, port, argv, agentEnv, gatewayEnv } = await serviceHome(options.config, {}, options.port);
  const child = spawnProcess(process.execPath, argv, gatewayEnv(options.env), home);
  try {
    await child.waitFor(options.until, options.timeoutMs ?? 45_000);
  } finally {
    // SIGTERM, not SIGKILL: the gateway's workers go down with it only when it shuts down itself.
    await child.stop("SIGTERM");
  }
  return {
    port,
    home,
    stateDir,
    output: `${child.stdout}\n${child.stderr}`,
    agentEnv,
    async cleanup() {
      rmSync(home, { recursive: true, force: true });
    },
  };
}
