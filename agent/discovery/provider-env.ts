// Which environment variables can hold a model provider's credential, and the
// environment the *gateway* reads them from (which is not this shell's).
//
// The table is OpenClaw's own, copied from the pinned openclaw 2026.9.6:
// every bundled plugin manifest's `setup.providers[].envVars`
// (dist/extensions/*/openclaw.plugin.json), overlaid by the core table
// CORE_PROVIDER_AUTH_ENV_VAR_CANDIDATES (dist/provider-env-vars-*.mjs, from
// src/secrets/provider-env-vars.ts), which wins. Order matters: the gateway
// takes the first one that is set (src/agents/model-auth-env.ts).
// Regenerate when the pinned OpenClaw moves:
//   node -e 'for (const d of fs.readdirSync("dist/extensions")) …setup.providers[].envVars'
import { configEnvVars, type Env } from "./openclaw-config.ts";
import { loadOpenClawDotenv, type DotenvFile } from "./openclaw-dotenv.ts";
import { openclawHome } from "./openclaw-world.ts";

export const PROVIDER_ENV_VARS: Readonly<Record<string, readonly string[]>> = {
  // core table (wins over manifests)
  anthropic: ["ANTHROPIC_OAUTH_TOKEN", "ANTHROPIC_API_KEY"],
  openai: ["CODEX_API_KEY", "OPENAI_API_KEY"],
  voyage: ["VOYAGE_API_KEY"],
  cerebras: ["CEREBRAS_API_KEY"],
  "anthropic-openai": ["ANTHROPIC_API_KEY"],
  "qwen-dashscope": ["DASHSCOPE_API_KEY"],
  // bundled plugin manifests
  alibaba: ["MODELSTUDIO_API_KEY", "DASHSCOPE_API_KEY", "QWEN_API_KEY"],
  clawrouter: ["CLAWROUTER_API_KEY"],
  fal: ["FAL_KEY", "FAL_API_KEY"],
  "github-copilot": ["COPILOT_GITHUB_TOKEN"],
  google: ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
  "google-vertex": ["GOOGLE_CLOUD_API_KEY"],
  huggingface: ["HUGGINGFACE_HUB_TOKEN", "HF_TOKEN"],
  litellm: ["LITELLM_API_KEY"],
  lmstudio: ["LM_API_TOKEN"],
  "microsoft-foundry": ["AZURE_OPENAI_API_KEY"],
  minimax: ["MINIMAX_CODE_PLAN_KEY", "MINIMAX_CODING_API_KEY", "MINIMAX_API_KEY"],
  "minimax-portal": ["MINIMAX_OAUTH_TOKEN", "MINIMAX_API_KEY"],
  nvidia: ["NVIDIA_API_KEY"],
  ollama: ["OLLAMA_API_KEY"],
  "ollama-cloud": ["OLLAMA_API_KEY"],
  "opencode-go": ["OPENCODE_API_KEY", "OPENCODE_ZEN_API_KEY"],
  openrouter: ["OPENROUTER_API_KEY"],
  sglang: ["SGLANG_API_KEY"],
  together: ["TOGETHER_API_KEY"],
  vllm: ["VLLM_API_KEY"],
  xai: ["XAI_API_KEY"],
};

/** Manifest `providerAuthAliases`: a provider id that shares another's credentials. */
export const PROVIDER_AUTH_ALIASES: Readonly<Record<string, string>> = {
  "minimax-cn": "minimax",
  "minimax-portal-cn": "minimax-portal",
  "x-ai": "xai",
};

/**
 * Providers whose models run on this host and need no key: their plugins
 * synthesize a local marker (manifest `syntheticAuthRefs` with a
 * `nonSecretAuthMarkers` entry: ollama-local, lmstudio-local, apple-fm-local).
 */
export const LOCAL_PROVIDERS: ReadonlySet<string> = new Set(["ollama", "lmstudio", "apple-fm"]);

/**
 * Providers signed in through another tool's login, which OpenClaw reads at
 * run time (Claude CLI, Codex, Gemini CLI: src/agents/auth-profiles/external-cli-*.ts).
 * Their credentials live outside OpenClaw's stores, so they are not judged here.
 */
export const EXTERNAL_CLI_PROVIDERS: ReadonlySet<string> = new Set(["claude-cli", "codex", "codex-cli", "codex-app-server", "google-gemini-cli"]);

/** OpenClaw compares provider ids lowercased (packages/model-catalog-core provider-id.ts). */
export function normalizeProviderId(provider: string): string {
  return provider.trim().toLowerCase();
}

/** The provider whose credentials a provider id uses. */
export function authProviderOf(provider: string): string {
  const id = normalizeProviderId(provider);
  return PROVIDER_AUTH_ALIASES[id] ?? id;
}

export function providerEnvVars(provider: string): readonly string[] {
  const id = normalizeProviderId(provider);
  return PROVIDER_ENV_VARS[id] ?? PROVIDER_ENV_VARS[authProviderOf(id)] ?? [];
}

/** One place the gateway's environment comes from, named as an operator would look for it. */
export interface EnvLayer {
  /** "gateway pid 123 env", "service ai.openclaw.gateway env", "env", "<stateDir>/.env", "config env.vars". */
  label: string;
  vars: Readonly<Record<string, string | undefined>>;
  /** Replaces a blank value of an earlier layer (config env.vars do; .env files never touch a set key, even a blank one). */
  fillsBlank?: boolean;
}

/** What the gateway sees, in its own precedence, plus the shell for comparison. */
export interface GatewayEnv {
  /** Earlier layers win; a later one only fills what earlier ones lack. */
  layers: EnvLayer[];
  /**
   * The shell's own variables when the gateway's environment is known to be
   * another one (a service or a live process): keys found only here are drift.
   */
  shellOnly?: Readonly<Record<string, string | undefined>>;
}

export interface GatewayEnvInput {
  stateDir: string;
  /** The CLI world's environment (shell merged with the .env files OpenClaw loads). */
  cliEnv: Env;
  /** The shell's own variables; without them, those of cliEnv that no .env file holds. */
  shellEnv?: Env;
  /** The .env files OpenClaw loads, first wins (openclaw-dotenv.ts); read from stateDir when absent. */
  dotenvFiles?: readonly DotenvFile[];
  /** The service definition's environment (launchd plist / systemd unit and env files). */
  serviceEnv?: Readonly<Record<string, string>>;
  serviceName?: string;
  /** The live gateway process's initial environment (/proc/<pid>/environ), the ground truth when known. */
  processEnv?: Readonly<Record<string, string>>;
  processLabel?: string;
  /** The host's platform (systemd's managed keys apply on Linux only); process.platform by default. */
  platform?: NodeJS.Platform;
  /** openclaw.json, for its inline `env.vars` (applied by the gateway, never overriding). */
  config?: Record<string, unknown>;
}

/**
 * The gateway's environment: its process (or service) environment, then the
 * state dir's .env and the config's `env.vars`, which OpenClaw loads itself
 * at startup and which never override (docs gateway/configuration/environment-variables.md).
 * Without a service or live process, a gateway started from this shell is assumed.
 */
export function gatewayEnv(input: GatewayEnvInput): GatewayEnv {
  const files = input.dotenvFiles ?? loadOpenClawDotenv(input.shellEnv ?? input.cliEnv, openclawHome(input.shellEnv ?? input.cliEnv), input.stateDir).files;
  // A key any .env file sets, with the value the first of them gives it (what OpenClaw applies).
  const dotenv: Record<string, string> = {};
  for (const file of files) for (const [key, value] of Object.entries(file.values)) if (!(key in dotenv)) dotenv[key] = value;
  const layers: EnvLayer[] = [];
  let own: Readonly<Record<string, string | undefined>> | undefined;
  if (input.processEnv) {
    own = input.processEnv;
    layers.push({ label: input.processLabel ?? "gateway process env", vars: withoutDotenvManaged(input.processEnv, dotenv, input.platform) });
  } else if (input.serviceEnv) {
    own = input.serviceEnv;
    layers.push({ label: `service ${input.serviceName ?? "gateway"} env`, vars: withoutDotenvManaged(input.serviceEnv, dotenv, input.platform) });
  } else {
    // The CLI world already merged the .env files under the shell; keep them apart for naming.
    const shell = input.shellEnv ?? Object.fromEntries(Object.entries(input.cliEnv).filter(([key, value]) => value !== undefined && dotenv[key] !== value));
    layers.push({ label: "env", vars: shell });
  }
  // Each file under its own name, in OpenClaw's order: the first that sets a key wins, as in lookupEnv.
  for (const file of files) if (Object.keys(file.values).length > 0 || file === files[0]) layers.push({ label: file.path, vars: file.values });
  const configVars = configEnvVars(input.config);
  // applyConfigEnvVars (dist/config-env-vars-*.mjs): a config value gives way only to a non-blank one.
  if (Object.keys(configVars).length > 0) layers.push({ label: "config env.vars", vars: configVars, fillsBlank: true });
  if (!own) return { layers };
  const shellSource = input.shellEnv ?? Object.fromEntries(Object.entries(input.cliEnv).filter(([key, value]) => value !== undefined && dotenv[key] !== value));
  const shellOnly = Object.fromEntries(Object.entries(shellSource).filter(([key, value]) => value !== undefined && !(key in dotenv) && own![key] === undefined));
  // With the shell-env import on, the gateway runs the user's login shell at
  // startup and takes the keys it lacks from there (src/infra/shell-env.ts):
  // this shell is the closest stand-in for that one.
  const shellEnv = record(record(input.config?.env)?.shellEnv);
  if (shellEnv?.enabled === true || /^(1|true|yes|on)$/i.test(own.OPENCLAW_LOAD_SHELL_ENV?.trim() ?? "")) {
    layers.push({ label: "login shell env (shellEnv import)", vars: shellOnly });
    return { layers };
  }
  return { layers, shellOnly };
}

/** OpenClaw's systemd hints (dist/supervisor-markers-*.mjs SUPERVISOR_HINTS.systemd). */
const SYSTEMD_HINTS = ["OPENCLAW_SYSTEMD_UNIT", "INVOCATION_ID", "SYSTEMD_EXEC_PID", "JOURNAL_STREAM"];

/**
 * Under systemd, the keys a unit lists in OPENCLAW_SERVICE_MANAGED_ENV_KEYS are ones
 * OpenClaw copied from .env into the unit, and at startup the .env value wins for them
 * (dist/pre-bootstrap-*.mjs: loadGlobalRuntimeDotEnvFiles with overrideKeys =
 * readManagedSystemdServiceEnvKeysFromEnvironment, compared upper-cased). So those keys
 * come from the .env files, not the unit, whenever a .env file sets them.
 */
function withoutDotenvManaged(env: Readonly<Record<string, string | undefined>>, dotenv: Readonly<Record<string, string>>, platform: NodeJS.Platform = process.platform): Readonly<Record<string, string | undefined>> {
  if (platform !== "linux" || !SYSTEMD_HINTS.some((hint) => env[hint]?.trim())) return env;
  const listed = Object.entries(env).find(([key]) => key.trim().toUpperCase() === "OPENCLAW_SERVICE_MANAGED_ENV_KEYS")?.[1];
  const managed = new Set((listed ?? "").split(",").map((key) => key.trim().toUpperCase()).filter((key) => /^[A-Z_][A-Z0-9_]*$/.test(key)));
  if (managed.size === 0) return env;
  const overridden = new Set(Object.keys(dotenv).filter((key) => managed.has(key.toUpperCase())).map((key) => key.toUpperCase()));
  return Object.fromEntries(Object.entries(env).filter(([key]) => !overridden.has(key.toUpperCase())));
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * A variable as the gateway would read it: the first layer that sets it, even
 * blank (dotenv never overrides a set key, so an empty `KEY=` in the process
 * environment hides every .env value), unless a later config env.vars layer fills
 * a blank; a blank result is no value.
 */
export function lookupEnv(env: GatewayEnv, name: string): { value: string; label: string } | undefined {
  let found: { value: string; label: string } | undefined;
  for (const layer of env.layers) {
    const value = layer.vars[name];
    if (value === undefined) continue;
    if (!found || (layer.fillsBlank && !found.value.trim())) found = { value, label: layer.label };
  }
  return found && found.value.trim() !== "" ? { value: found.value.trim(), label: found.label } : undefined;
}

/** Flattened view, for resolving `${VAR}` and env SecretRefs as the gateway would. */
export function flattenEnv(env: GatewayEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const layer of [...env.layers].reverse()) {
    for (const [key, value] of Object.entries(layer.vars)) if (value !== undefined) out[key] = value;
  }
  return out;
}
