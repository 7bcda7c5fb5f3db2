// What the OpenClaw CLI in this shell sees: where its state and config are,
// which port it talks to, and every token source a client could use.
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { configValue, readConfigFile, readDotenv, resolveSecret, type ConfigFile, type Env } from "./openclaw-config.ts";

export type { Env };

export const DEFAULT_GATEWAY_PORT = 18789;

export interface TokenSource {
  /** Where the token comes from, as an operator would name it. */
  source: string;
  value?: string;
  /** Set when the source exists but could not be resolved. */
  unresolved?: string;
}

export interface OpenClawWorld {
  home: string;
  stateDir: string;
  config: ConfigFile;
  port: number;
  portSource: string;
  mode: "local" | "remote";
  /** Every configured token source, in the CLI's precedence order. */
  tokenSources: TokenSource[];
  /** The token a client in this shell would send, per the CLI's precedence. */
  clientToken?: TokenSource;
  /** The shell environment merged with the state dir's .env (which never overrides). */
  env: Env;
}

function unset(value: string | undefined): boolean {
  const trimmed = value?.trim();
  return !trimmed || trimmed === "undefined" || trimmed === "null";
}

export function openclawHome(env: Env): string {
  if (!unset(env.OPENCLAW_HOME)) return resolve(env.OPENCLAW_HOME!);
  if (!unset(env.HOME)) return resolve(env.HOME!);
  return homedir();
}

export function openclawStateDir(env: Env): string {
  if (!unset(env.OPENCLAW_STATE_DIR)) return resolve(env.OPENCLAW_STATE_DIR!);
  const profile = env.OPENCLAW_PROFILE?.trim();
  return join(openclawHome(env), profile && profile !== "default" ? `.openclaw-${profile}` : ".openclaw");
}

export function discoverOpenClaw(shellEnv: Env): OpenClawWorld {
  const home = openclawHome(shellEnv);
  const stateDir = openclawStateDir(shellEnv);
  const configPath = unset(shellEnv.OPENCLAW_CONFIG_PATH) ? join(stateDir, "openclaw.json") : resolve(shellEnv.OPENCLAW_CONFIG_PATH!);
  const config = readConfigFile(configPath);
  // The global .env fills what the process lacks, never overriding it.
  const env: Env = { ...readDotenv(join(stateDir, ".env")), ...stripUndefined(shellEnv) };

  const [port, portSource] = gatewayPort(env, config);
  const mode = configValue(config.raw, "gateway.mode") === "remote" ? "remote" : "local";

  const fromConfig = (dotted: string): TokenSource | undefined => {
    const raw = configValue(config.raw, dotted);
    if (raw === undefined) return undefined;
    const resolved = resolveSecret(raw, env);
    return resolved ? { source: `config ${dotted}`, value: resolved.value, unresolved: resolved.unresolved } : undefined;
  };
  const local = fromConfig("gateway.auth.token");
  const remote = fromConfig("gateway.remote.token");
  const shell: TokenSource | undefined =
    env.OPENCLAW_GATEWAY_TOKEN === undefined ? undefined : { source: "env OPENCLAW_GATEWAY_TOKEN", value: env.OPENCLAW_GATEWAY_TOKEN };

  // docs gateway/remote.md, "Credential precedence".
  const ordered = mode === "remote" ? [remote, shell, local] : [local, shell, remote];
  const tokenSources = ordered.filter((s): s is TokenSource => s !== undefined);
  const clientToken = tokenSources.find((s) => s.value !== undefined && s.value !== "") ?? tokenSources[0];
  return { home, stateDir, config, port, portSource, mode, tokenSources, clientToken, env };
}

function gatewayPort(env: Env, config: ConfigFile): [number, string] {
  const fromEnv = Number(env.OPENCLAW_GATEWAY_PORT);
  if (!unset(env.OPENCLAW_GATEWAY_PORT) && Number.isInteger(fromEnv) && fromEnv > 0 && fromEnv < 65536) {
    return [fromEnv, "env OPENCLAW_GATEWAY_PORT"];
  }
  const fromConfig = configValue(config.raw, "gateway.port");
  if (typeof fromConfig === "number" && Number.isInteger(fromConfig) && fromConfig > 0 && fromConfig < 65536) {
    return [fromConfig, "config gateway.port"];
  }
  return [DEFAULT_GATEWAY_PORT, "default"];
}

function stripUndefined(env: Env): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
