// Provider layer: for every configured agent, does each model provider it calls
// have a credential the *gateway* can use? This is the "No API key found for
// provider" failure (src/agents/model-auth-provider.ts), told apart from a 401.
// Reads openclaw.json and the SQLite auth stores read-only; never runs the
// openclaw CLI and never needs the gateway to be up.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { passed, problem, skipped, type Finding } from "../../shared/finding.ts";
import { effectiveStore, readAgentStore, readSharedStore, type AuthStore, type StoredProfile } from "../discovery/auth-store.ts";
import { configuredAgents, providersOf, type ConfiguredAgent } from "../discovery/openclaw-agents.ts";
import { resolveSecret } from "../discovery/openclaw-config.ts";
import {
  EXTERNAL_CLI_PROVIDERS,
  LOCAL_PROVIDERS,
  authProviderOf,
  flattenEnv,
  gatewayEnv,
  lookupEnv,
  normalizeProviderId,
  providerEnvVars,
  type GatewayEnv,
} from "../discovery/provider-env.ts";
import type { Check, CheckContext } from "./check.ts";
import { gatewayEnvironment } from "../observations/gateway-environment.ts";

const CHECK = "provider";

export const providerCheck: Check = {
  name: CHECK,
  layer: "provider",
  // SQLite reads of a few small rows; the wait is for the gateway-environment observation (4.5 s).
  deadlineMs: 5500,
  observes: [gatewayEnvironment],
  async run(ctx): Promise<Finding[]> {
    const { world } = ctx;
    if (world.config.exists && !world.config.raw) {
      return [skipped(CHECK, "provider", `Providers not checked: ${world.config.error ?? `${world.config.path} cannot be used`}.`, { configPath: world.config.path })];
    }
    const env = await ctx.observe(gatewayEnvironment);
    return assessProviders({ ctx, env, now: Date.now() });
  },
};

interface Assessment {
  ctx: CheckContext;
  env: GatewayEnv;
  now: number;
}

function assessProviders({ ctx, env, now }: Assessment): Finding[] {
  const { world } = ctx;
  const raw = world.config.raw;
  const agents = configuredAgents(raw, { stateDir: world.stateDir, home: world.home });
  if (agents.length === 0) {
    return [skipped(CHECK, "provider", `${world.config.path} defines an empty agent roster: no agent calls a model.`, { configPath: world.config.path })];
  }
  const shared = readSharedStore(world.stateDir, flattenEnv(env), ctx.caches?.authStores);
  if (shared.status === "unreadable") {
    // Every agent inherits the shared store and OpenClaw refuses to run a model when it cannot read it.
    return [unreadable(shared, agents.map((a) => a.id))];
  }
  const findings: Finding[] = [];
  for (const agent of agents) {
    const own = readAgentStore(agent.agentDir, ctx.caches?.authStores);
    if (own.status === "unreadable") {
      findings.push(unreadable(own, [agent.id]));
      continue;
    }
    for (const provider of providersOf(agent)) findings.push(assessProvider(ctx, env, now, agent, provider, shared, own));
  }
  return findings;
}

function unreadable(store: AuthStore, agents: string[]): Finding {
  const whose = store.kind === "shared-state" || agents.length > 1 ? `the credential store every agent inherits (${agents.join(", ")})` : `agent ${agents[0]}'s credential store`;
  const summary = store.transient
    ? `${whose[0]!.toUpperCase()}${whose.slice(1)} at ${store.path} was locked while being read (${store.reason}); it is retried on the next run.`
    : `Cannot read ${whose} at ${store.path}: ${store.reason ?? "unknown error"}. The gateway cannot resolve any provider credential for ${agents.length > 1 ? "these agents" : "it"}.`;
  return problem(CHECK, "auth_store_unreadable", summary, { path: store.path, agent: agents.join(","), reason: store.reason ?? "" }, store.transient ? "warn" : undefined);
}

/** One credential the gateway could use, named by where it comes from. */
interface Usable {
  source: string;
  secret?: string;
  profile?: StoredProfile;
}

interface ProfileVerdict {
  profile: StoredProfile;
  usable?: Usable;
  expired?: boolean;
  reason?: string;
}

function assessProvider(ctx: CheckContext, env: GatewayEnv, now: number, agent: ConfiguredAgent, provider: string, shared: AuthStore, own: AuthStore): Finding {
  const raw = ctx.world.config.raw;
  const models = agent.models.filter((m) => m.provider === provider);
  const evidence: Record<string, string> = {
    agent: agent.id,
    provider,
    models: models.map((m) => `${m.role} ${m.provider}/${m.model}`).join(", "),
    agentDir: agent.agentDir,
    storePath: own.path,
  };
  if (shared.path !== own.path) evidence.sharedStorePath = shared.path;
  if (agent.primarySource === "openclaw-default" && models.some((m) => m.role === "primary")) evidence.modelSource = "OpenClaw default (no primary model configured)";
  const envVars = providerEnvVars(provider);
  if (envVars.length > 0) evidence.envVar = envVars.join(" or ");

  if (EXTERNAL_CLI_PROVIDERS.has(provider)) {
    return skipped(CHECK, "provider", `Agent ${agent.id} uses ${provider}, which signs in through that tool's own login; clawfleet does not read it.`, evidence);
  }
  const providerConfig = providerConfigOf(raw, provider);
  if (providerConfig?.auth === "aws-sdk" || (provider === "amazon-bedrock" && providerConfig?.apiKey === undefined)) {
    return skipped(CHECK, "provider", `Agent ${agent.id} uses ${provider} through the AWS SDK credential chain, which clawfleet does not resolve.`, evidence);
  }

  const { profiles, order } = effectiveStore(shared, own);
  const pinned = models.map((m) => m.authProfile).find((p) => p !== undefined);
  const verdicts = candidateProfiles(provider, profiles, order, raw, pinned).map((p) => judgeProfile(p, env, now));
  const fromProfiles = verdicts.find((v) => v.usable)?.usable;
  const fromConfigFirst = providerConfig?.auth === "api-key" ? configKey(providerConfig, provider, env) : undefined;
  const fromEnv = envKey(provider, env);
  const fromConfig = configKey(providerConfig, provider, env) ?? keylessEndpoint(providerConfig, provider);
  // resolveApiKeyForProviderCore: an explicit api-key config first, then profiles, env, models.providers.
  const used = fromConfigFirst ?? fromProfiles ?? (pinned ? undefined : (fromEnv ?? fromConfig));
  const expired = verdicts.filter((v) => v.expired);

  if (used) {
    Object.assign(evidence, { source: used.source });
    if (used.secret !== undefined) {
      evidence.fingerprint = ctx.fingerprint(used.secret);
      ctx.noteCredential({ kind: "provider_key", source: used.source, secret: used.secret, subject: `${agent.id}/${provider}` });
    }
    if (used.profile) evidence.storePath = used.profile.storePath;
    const by = used.secret !== undefined ? ` (${evidence.fingerprint})` : "";
    if (expired.length > 0 && !used.profile) {
      const stale = expired[0]!;
      evidence.profile = stale.profile.id;
      evidence.expiresAt = expiryText(stale.profile);
      evidence.storePath = stale.profile.storePath;
      return problem(CHECK, "credential_expired", `Agent ${agent.id}'s ${provider} profile ${stale.profile.id} expired at ${evidence.expiresAt}; requests fall back to ${used.source}${by}.`, evidence, "warn");
    }
    if (expired.length > 0) evidence.expiredProfiles = expired.map((v) => v.profile.id).join(",");
    if (used.profile?.type === "oauth" && used.profile.expiresAt && used.profile.expiresAt <= now) {
      evidence.accessExpiresAt = new Date(used.profile.expiresAt).toISOString(); // renewed with the refresh token on the next call
    }
    return passed(CHECK, "provider", `Agent ${agent.id} can call ${provider}: ${used.source}${by}.`, evidence);
  }

  if (expired.length > 0) {
    const latest = [...expired].sort((a, b) => (b.profile.expiresAt ?? 0) - (a.profile.expiresAt ?? 0))[0]!;
    evidence.profile = latest.profile.id;
    evidence.expiresAt = expiryText(latest.profile);
    evidence.storePath = latest.profile.storePath;
    evidence.type = latest.profile.type;
    const what = latest.profile.refreshFence === "failed" ? "failed to refresh, so it expired" : `expired at ${evidence.expiresAt}`;
    return problem(CHECK, "credential_expired", `Agent ${agent.id} has no usable ${provider} credential: ${latest.profile.type} profile ${latest.profile.id} ${what}.`, evidence);
  }

  const notes: string[] = [];
  const rejected = verdicts.filter((v) => v.reason && !v.expired);
  if (rejected.length > 0) {
    evidence.unusableProfiles = rejected.map((v) => `${v.profile.id}: ${v.reason}`).join("; ");
    notes.push(`profile ${evidence.unusableProfiles}`);
  }
  if (pinned && !profiles[pinned]) notes.push(`its model pins auth profile ${pinned}, which is not in the store`);
  const inShellOnly = envVars.filter((name) => env.shellOnly?.[name]?.trim() && !lookupEnv(env, name));
  if (inShellOnly.length > 0) {
    evidence.shellOnly = inShellOnly.join(",");
    notes.push(`${inShellOnly.join(", ")} is set in this shell but not in the gateway's environment (${env.layers[0]!.label})`);
  }
  const legacy = ["auth-profiles.json", "auth.json"].map((f) => join(agent.agentDir, f)).find((p) => existsSync(p));
  if (legacy) {
    evidence.legacyFile = legacy;
    notes.push(`${legacy} is a retired credential file the gateway ignores until \`openclaw doctor --fix\` imports it`);
  }
  const where = envVars.length > 0 ? `, and ${envVars.join("/")} is not set for the gateway` : "";
  const detail = notes.length > 0 ? ` Note: ${notes.join("; ")}.` : "";
  return problem(CHECK, "api_key_missing", `Agent ${agent.id} uses ${provider} (${evidence.models}) but its auth store ${own.path} (merged with the shared store) holds no usable ${provider} credential${where}.${detail}`, evidence);
}

function expiryText(profile: StoredProfile): string {
  if (profile.refreshFence === "failed") return "the last refresh attempt (it failed)";
  return profile.expiresAt ? new Date(profile.expiresAt).toISOString() : "an invalid time";
}

/**
 * resolveAuthProfileOrder: an explicit order (store, then config `auth.order`)
 * or the config's `auth.profiles` ids for the provider, else every stored
 * profile for it; if an explicit list names only absent profiles, the stored
 * ones are used after all. A pinned `@profile` narrows it to that one.
 */
function candidateProfiles(provider: string, profiles: Record<string, StoredProfile>, order: Record<string, string[]>, raw: Record<string, unknown> | undefined, pinned: string | undefined): StoredProfile[] {
  const authKey = authProviderOf(provider);
  const matches = (p: StoredProfile) => authProviderOf(p.provider) === authKey;
  const stored = Object.values(profiles).filter(matches);
  if (pinned) return profiles[pinned] ? [profiles[pinned]!] : [];
  const auth = record(raw?.auth);
  const configOrder = Object.entries(record(auth?.order) ?? {}).find(([p]) => authProviderOf(p) === authKey)?.[1];
  const explicit = order[authKey] ?? order[provider] ?? (Array.isArray(configOrder) ? configOrder.filter((id): id is string => typeof id === "string") : undefined);
  const configured = Object.entries(record(auth?.profiles) ?? {})
    .filter(([, p]) => typeof record(p)?.provider === "string" && authProviderOf(record(p)!.provider as string) === authKey)
    .map(([id]) => id);
  const base = explicit ?? (configured.length > 0 ? configured : stored.map((p) => p.id));
  const listed = base.map((id) => profiles[id]).filter((p): p is StoredProfile => p !== undefined && matches(p));
  if (listed.length === 0 && base.every((id) => !profiles[id]) && (explicit !== undefined || configured.length > 0)) {
    // An explicit empty order means "no profiles" (OpenClaw's openclaw/docs/cli/models.md, auth logout).
    return explicit !== undefined && explicit.length === 0 ? [] : stored;
  }
  return listed;
}

/** evaluateStoredCredentialEligibility plus what the gateway does on use (OAuth refresh, env SecretRefs). */
function judgeProfile(profile: StoredProfile, env: GatewayEnv, now: number): ProfileVerdict {
  const source = `auth store profile ${profile.id}`;
  if (profile.inactive) return { profile, reason: "saved by setup as a replacement, not active yet" };
  if (profile.unusableReason) return { profile, reason: profile.unusableReason };
  if (profile.refreshFence === "failed") return { profile, expired: true, reason: "failed to refresh" };
  if (profile.type === "token" && profile.expiresAt === 0) return { profile, reason: "has an invalid expiry" };
  const expiredNow = profile.expiresAt !== undefined && profile.expiresAt > 0 && profile.expiresAt <= now;
  // An OAuth access token that ran out is renewed with the refresh token on the next call.
  if (expiredNow && !(profile.type === "oauth" && profile.refreshable)) return { profile, expired: true, reason: "expired" };
  if (profile.refreshFence === "pending") return { profile, usable: { source: `${source} (refresh in progress)`, profile } };
  if (profile.secretRef) {
    if (profile.secretRef.source !== "env") return { profile, usable: { source: `${source} (${profile.secretRef.source} SecretRef, not resolved by clawfleet)`, profile } };
    const found = lookupEnv(env, profile.secretRef.id);
    if (!found) return { profile, reason: `its env SecretRef ${profile.secretRef.id} is not set for the gateway` };
    return { profile, usable: { source: `${source} (${found.label} ${profile.secretRef.id})`, secret: found.value, profile } };
  }
  return { profile, usable: { source, ...(profile.secret !== undefined ? { secret: profile.secret } : {}), profile } };
}

function envKey(provider: string, env: GatewayEnv): Usable | undefined {
  for (const name of providerEnvVars(provider)) {
    const found = lookupEnv(env, name);
    if (found) return { source: `${found.label} ${name}`, secret: found.value };
  }
  return undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function providerConfigOf(raw: Record<string, unknown> | undefined, provider: string): Record<string, unknown> | undefined {
  const providers = record(record(raw?.models)?.providers);
  const entry = Object.entries(providers ?? {}).find(([id]) => normalizeProviderId(id) === provider)?.[1];
  return record(entry);
}

/** `models.providers.<id>.apiKey`: a literal, `${VAR}`, an env SecretRef, or the name of an env var. */
function configKey(providerConfig: Record<string, unknown> | undefined, provider: string, env: GatewayEnv): Usable | undefined {
  const apiKey = providerConfig?.apiKey;
  if (apiKey === undefined) return undefined;
  const label = `config models.providers.${provider}.apiKey`;
  if (typeof apiKey === "string" && /^[A-Z][A-Z0-9_]*_(?:API_KEY|TOKEN|KEY)$/.test(apiKey.trim())) {
    const found = lookupEnv(env, apiKey.trim());
    return found ? { source: `${label} (${found.label} ${apiKey.trim()})`, secret: found.value } : undefined;
  }
  const resolved = resolveSecret(apiKey, flattenEnv(env));
  if (resolved?.value?.trim()) return { source: resolved.variables.length > 0 ? `${label} (${resolved.variables.join(", ")})` : label, secret: resolved.value.trim() };
  if (record(apiKey) && typeof record(apiKey)!.source === "string" && record(apiKey)!.source !== "env") {
    return { source: `${label} (${record(apiKey)!.source} SecretRef, not resolved by clawfleet)` };
  }
  return undefined;
}

/** A self-hosted endpoint on this host or LAN needs no key (hasSyntheticLocalProviderAuthConfig), nor do local runtimes. */
function keylessEndpoint(providerConfig: Record<string, unknown> | undefined, provider: string): Usable | undefined {
  const baseUrl = typeof providerConfig?.baseUrl === "string" ? providerConfig.baseUrl : undefined;
  if (baseUrl && typeof providerConfig?.api === "string" && isLocalUrl(baseUrl)) return { source: `config models.providers.${provider} (local endpoint ${baseUrl}, no key needed)` };
  if (LOCAL_PROVIDERS.has(provider) && (!baseUrl || isLocalUrl(baseUrl))) return { source: `${provider} runs locally (no key needed)` };
  return undefined;
}

/** isLocalProviderBaseUrl: localhost, *.local, loopback, RFC 1918, Docker/OrbStack host aliases. */
function isLocalUrl(baseUrl: string): boolean {
  let host: string;
  try {
    host = new URL(baseUrl).hostname.toLowerCase().replace(/^\[|\]$/g, "");
  } catch {
    return false;
  }
  if (host === "localhost" || host === "0.0.0.0" || host.endsWith(".local") || host === "::1") return true;
  if (["docker.orb.internal", "host.docker.internal", "host.orb.internal"].includes(host)) return true;
  const octets = host.split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return false;
  const [a, b] = octets as [number, number, number, number];
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}
