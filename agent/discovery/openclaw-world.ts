// What the OpenClaw CLI in this shell sees: where its state and config are,
// which port it talks to, and every token source a client could use.
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { configValue, readConfigFile, resolveSecret, withConfigEnv, type ConfigFile, type Env } from "./openclaw-config.ts";
import { dotenvOrigin, loadOpenClawDotenv, type DotenvFile } from "./openclaw-dotenv.ts";

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
  /** The shell environment merged with the .env files OpenClaw loads itself (which never override it). */
  env: Env;
  /** Those .env files, in OpenClaw's order (first wins), read as OpenClaw reads them. */
  dotenvFiles: DotenvFile[];
  /** The shell's own variables, before any .env. */
  shellEnv: Env;
}

/**
 * Where a variable of `world.env` really comes from: "shell" when this shell
 * set it, else the .env file OpenClaw takes it from; undefined when unset.
 */
export function envOrigin(world: Pick<OpenClawWorld, "shellEnv" | "dotenvFiles">, name: string): "shell" | DotenvFile | undefined {
  if (world.shellEnv[name] !== undefined) return "shell";
  return dotenvOrigin(world.dotenvFiles, name);
}

/** How a message names that origin: "env NAME" for the shell, "<file> NAME" for a .env. */
export function envSourceLabel(world: Pick<OpenClawWorld, "shellEnv" | "dotenvFiles">, name: string): string {
  const origin = envOrigin(world, name);
  return origin === undefined || origin === "shell" ? `env ${name}` : `${origin.path} ${name}`;
}

function unset(value: string | undefined): boolean {
  const trimmed = value?.trim();
  return !trimmed || trimmed === "undefined" || trimmed === "null";
}

/** The OS home: HOME, else the account's (OpenClaw's resolveOsHomeDir). */
function osHome(env: Env): string {
  return unset(env.HOME) ? homedir() : resolve(env.HOME!.trim());
}

/** OPENCLAW_HOME (its leading `~` is the OS home), else the OS home (dist/home-dir-*.mjs resolveEffectiveHomeDir). */
export function openclawHome(env: Env): string {
  if (unset(env.OPENCLAW_HOME)) return osHome(env);
  return resolve(env.OPENCLAW_HOME!.trim().replace(/^~(?=$|[\\/])/, () => osHome(env)));
}

/**
 * A path from the environment as OpenClaw takes it (resolveHomeRelativePath):
 * trimmed, a leading `~` is OpenClaw's home, then made absolute. "" when blank.
 */
export function openclawUserPath(value: string | undefined, env: Env): string {
  const trimmed = value?.trim() ?? "";
  if (!trimmed) return "";
  return resolve(trimmed.startsWith("~") ? trimmed.replace(/^~(?=$|[\\/])/, () => openclawHome(env)) : trimmed);
}

export function openclawStateDir(env: Env): string {
  if (env.OPENCLAW_STATE_DIR?.trim()) return openclawUserPath(env.OPENCLAW_STATE_DIR, env);
  const profile = env.OPENCLAW_PROFILE?.trim();
  return join(openclawHome(env), profile && profile !== "default" ? `.openclaw-${profile}` : ".openclaw");
}

export function discoverOpenClaw(shellEnv: Env): OpenClawWorld {
  const home = openclawHome(shellEnv);
  const stateDir = openclawStateDir(shellEnv);
  const configPath = shellEnv.OPENCLAW_CONFIG_PATH?.trim() ? openclawUserPath(shellEnv.OPENCLAW_CONFIG_PATH, shellEnv) : join(stateDir, "openclaw.json");
  // OpenClaw loads its .env files before it reads the config; they fill what the process lacks, never overriding it.
  const dotenv = loadOpenClawDotenv(shellEnv, home, stateDir);
  const env: Env = { ...dotenv.merged, ...stripUndefined(shellEnv) };
  const config = readConfigFile(configPath, { env, home });

  const origins = { shellEnv, dotenvFiles: dotenv.files };
  const [port, portSource] = gatewayPort(env, config, origins);
  const mode = configValue(config.raw, "gateway.mode") === "remote" ? "remote" : "local";

  // The config's own env vars are applied before its `${VAR}`s are substituted.
  const substitutionEnv = withConfigEnv(env, config.raw);
  const fromConfig = (dotted: string): TokenSource | undefined => {
    const raw = configValue(config.raw, dotted);
    if (raw === undefined) return undefined;
    const resolved = resolveSecret(raw, substitutionEnv);
    return resolved ? { source: `config ${dotted}`, value: resolved.value, unresolved: resolved.unresolved } : undefined;
  };
  const local = fromConfig("gateway.auth.token");
  const remote = fromConfig("gateway.remote.token");
  const shell: TokenSource | undefined =
    env.OPENCLAW_GATEWAY_TOKEN === undefined ? undefined : { source: envSourceLabel(origins, "OPENCLAW_GATEWAY_TOKEN"), value: env.OPENCLAW_GATEWAY_TOKEN };

  // docs gateway/remote.md, "Credential precedence".
  const ordered = mode === "remote" ? [remote, shell, local] : [local, shell, remote];
  const tokenSources = ordered.filter((s): s is TokenSource => s !== undefined);
  const clientToken = tokenSources.find((s) => s.value !== undefined && s.value !== "") ?? tokenSources[0];
  return { home, stateDir, config, port, portSource, mode, tokenSources, clientToken, env, dotenvFiles: dotenv.files, shellEnv };
}

function gatewayPort(env: Env, config: ConfigFile, origins: Pick<OpenClawWorld, "shellEnv" | "dotenvFiles">): [number, string] {
  const fromEnv = Number(env.OPENCLAW_GATEWAY_PORT);
  if (!unset(env.OPENCLAW_GATEWAY_PORT) && Number.isInteger(fromEnv) && fromEnv > 0 && fromEnv < 65536) {
    return [fromEnv, envSourceLabel(origins, "OPENCLAW_GATEWAY_PORT")];
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
