// Restarts the test's OpenClaw gateway with another token, in place (same
// HOME, state dir and port), the way an operator rotates the gateway token on
// the service while clients keep the old one. test/helpers/openclaw-gateway.ts
// starts it with a fixed token, so this repeats its launch with a new one.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { harnessChange } from "../helpers/openclaw-host-guard.ts";
import { baseEnv, spawnProcess } from "../helpers/processes.ts";
import { OPENCLAW_ENTRY, type TestGateway } from "../helpers/openclaw-gateway.ts";

/** Stops the gateway and starts it with `token`; resolves when /readyz says ready, with that moment. */
export async function restartGatewayWithToken(gateway: TestGateway, token: string, timeoutMs = 90_000): Promise<number> {
  await gateway.stop();
  // Agents keep running meanwhile: the gateway's start-up writes are its own, not theirs.
  const startedAt = Date.now();
  const ready = await harnessChange(gateway.stateDir, () => startWithToken(gateway, token, timeoutMs));
  await gateway.settle(startedAt);
  return ready;
}

async function startWithToken(gateway: TestGateway, token: string, timeoutMs: number): Promise<number> {
  const env = { ...baseEnv(), HOME: gateway.home, OPENCLAW_STATE_DIR: gateway.stateDir, OPENCLAW_GATEWAY_PORT: String(gateway.port), OPENCLAW_GATEWAY_TOKEN: token };
  const child = spawnProcess(process.execPath, [OPENCLAW_ENTRY, "gateway", "run", "--port", String(gateway.port), "--auth", "token", "--bind", "loopback", "--allow-unconfigured"], env, gateway.home);
  // cleanup() stops whatever process the gateway object holds.
  gateway.process = child;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.child.exitCode !== null) throw new Error(`openclaw gateway exited (${child.child.exitCode}):\n${child.stderr.slice(-4000)}`);
    try {
      const response = await fetch(`http://127.0.0.1:${gateway.port}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (response.ok && ((await response.json()) as { ready?: boolean }).ready) return Date.now();
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`openclaw gateway on ${gateway.port} not ready after ${timeoutMs} ms:\n${child.stderr.slice(-4000)}`);
}

/**
 * Sets the token clients on this host use, in the state dir's .env (where the
 * OpenClaw CLI and the agent read it on every run): "copy the gateway's token
 * into the client config", the repair the taxonomy gives for token_mismatch.
 */
export function setClientToken(stateDir: string, token: string): void {
  harnessChange(stateDir, () => writeClientToken(stateDir, token));
}

function writeClientToken(stateDir: string, token: string): void {
  const path = join(stateDir, ".env");
  const kept = existsSync(path) ? readFileSync(path, "utf8").split("\n").filter((line) => line !== "" && !line.startsWith("OPENCLAW_GATEWAY_TOKEN=")) : [];
  writeFileSync(path, [...kept, `OPENCLAW_GATEWAY_TOKEN=${token}`, ""].join("\n"), { mode: 0o600 });
}

/** The environment of a client (or agent) on the gateway's host that takes its token from .env. */
export function clientEnvFromDotenv(gateway: TestGateway): NodeJS.ProcessEnv {
  const { OPENCLAW_GATEWAY_TOKEN: _fromEnv, ...env } = gateway.clientEnv();
  return env;
}
