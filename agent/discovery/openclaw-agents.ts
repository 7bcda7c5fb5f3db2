// The agents an OpenClaw config defines, where each keeps its credentials
// (agentDir), and which model providers each one calls. Mirrors the pinned
// openclaw 2026.9.6 (dist/agent-scope-config-*.mjs, src/agents/agent-roster.ts,
// agent-scope-config.ts, agent-scope.ts, model-selection-shared.ts) without
// plugin catalogs: only what openclaw.json says.
import { isAbsolute, join, resolve } from "node:path";
import { normalizeProviderId } from "./provider-env.ts";

/**
 * What a gateway runs when no primary model is configured anywhere and no
 * `models.providers` entry offers one (src/agents/defaults.ts DEFAULT_PROVIDER /
 * DEFAULT_MODEL). Not anthropic: that was older releases.
 */
export const OPENCLAW_DEFAULT_MODEL = { provider: "openai", model: "gpt-6-astra" } as const;

/** The agent OpenClaw implies when the config has no roster (LEGACY_IMPLICIT_AGENT_ID). */
export const IMPLICIT_AGENT_ID = "main";

export interface AgentModel {
  /** As written in the config (alias or provider/model, with any @profile suffix). */
  ref: string;
  provider: string;
  model: string;
  role: "primary" | "fallback";
  /** A trailing `@profile` pins this auth profile. */
  authProfile?: string;
}

export type ModelSource = "agent" | "defaults" | "configured-provider" | "openclaw-default";

export interface ConfiguredAgent {
  id: string;
  agentDir: string;
  /** `agents.entries.<id>.agentDir` was set (else `<stateDir>/agents/<id>/agent`). */
  agentDirConfigured: boolean;
  /** Primary first, then fallbacks in order. */
  models: AgentModel[];
  /** Where the primary came from. */
  primarySource: ModelSource;
}

export interface AgentPaths {
  stateDir: string;
  /** For `~` in a configured agentDir. */
  home: string;
}

type Raw = Record<string, unknown>;

function record(value: unknown): Raw | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Raw) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/** normalizeAgentId (packages/normalization-core/src/agent-id.ts): the filesystem-safe id. */
export function normalizeAgentId(value: string | undefined): string {
  const trimmed = (value ?? "").trim();
  if (/^[a-z0-9][a-z0-9_-]{0,63}$/i.test(trimmed)) return trimmed.toLowerCase();
  const id = trimmed.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^-+/, "").replace(/-+$/, "").slice(0, 64);
  return id || IMPLICIT_AGENT_ID;
}

/**
 * The roster: `agents.entries` (keyed by id) when present, else the legacy
 * `agents.list` array (entries with `id`), else the implicit `main` agent.
 * A roster that is present but empty configures no agents at all.
 */
export function agentEntries(raw: Raw | undefined): { id: string; entry: Raw }[] {
  const agents = record(raw?.agents);
  if (agents && Object.hasOwn(agents, "entries") && agents.entries !== undefined) {
    const entries = record(agents.entries) ?? {};
    return dedupe(Object.entries(entries).flatMap(([id, entry]) => (record(entry) ? [{ id: normalizeAgentId(id), entry: record(entry)! }] : [])));
  }
  if (agents && Object.hasOwn(agents, "list") && agents.list !== undefined) {
    const list = Array.isArray(agents.list) ? agents.list : [];
    return dedupe(list.flatMap((entry) => (record(entry) ? [{ id: normalizeAgentId(text(record(entry)!.id)), entry: record(entry)! }] : [])));
  }
  return [{ id: IMPLICIT_AGENT_ID, entry: {} }];
}

function dedupe(entries: { id: string; entry: Raw }[]): { id: string; entry: Raw }[] {
  const seen = new Set<string>();
  return entries.filter(({ id }) => !seen.has(id) && seen.add(id));
}

/** resolveEffectiveAgentDir: the configured agentDir (with `~`), else `<stateDir>/agents/<id>/agent`. */
export function agentDirOf(id: string, entry: Raw, paths: AgentPaths): { dir: string; configured: boolean } {
  const configured = text(entry.agentDir);
  if (!configured) return { dir: join(paths.stateDir, "agents", id, "agent"), configured: false };
  const expanded = configured === "~" ? paths.home : configured.startsWith("~/") ? join(paths.home, configured.slice(2)) : configured;
  return { dir: isAbsolute(expanded) ? expanded : resolve(expanded), configured: true };
}

export function configuredAgents(raw: Raw | undefined, paths: AgentPaths): ConfiguredAgent[] {
  return agentEntries(raw).map(({ id, entry }) => {
    const dir = agentDirOf(id, entry, paths);
    const { models, primarySource } = agentModels(raw, entry);
    return { id, agentDir: dir.dir, agentDirConfigured: dir.configured, models, primarySource };
  });
}

/** Distinct auth providers an agent's models call, primary first. */
export function providersOf(agent: ConfiguredAgent): string[] {
  return [...new Set(agent.models.map((m) => m.provider))];
}

/** resolvePrimaryStringValue: a string model, or the object form's `primary`. */
function primaryOf(model: unknown): string | undefined {
  return typeof model === "string" ? text(model) : text(record(model)?.primary);
}

/**
 * resolveSelectedModelFallbacksOverride: an agent's string model, or object
 * with a primary and no `fallbacks`, is strict (no fallbacks); an object with
 * `fallbacks` uses those; otherwise the defaults' fallbacks apply.
 */
function fallbacksOverride(model: unknown): string[] | undefined {
  if (!model) return undefined;
  if (typeof model === "string") return text(model) ? [] : undefined;
  const object = record(model);
  if (!object) return undefined;
  if (!Object.hasOwn(object, "fallbacks")) return Object.hasOwn(object, "primary") && primaryOf(object) ? [] : undefined;
  return Array.isArray(object.fallbacks) ? object.fallbacks.filter((f): f is string => typeof f === "string") : undefined;
}

export function agentModels(raw: Raw | undefined, entry: Raw): { models: AgentModel[]; primarySource: ModelSource } {
  const defaults = record(record(raw?.agents)?.defaults);
  const aliases = aliasIndex(raw, entry);
  const fromAgent = primaryOf(entry.model);
  const fromDefaults = primaryOf(defaults?.model);
  const models: AgentModel[] = [];
  let primarySource: ModelSource;
  let primary: AgentModel | undefined;
  const primaryRef = fromAgent ?? fromDefaults;
  if (primaryRef) {
    primarySource = fromAgent ? "agent" : "defaults";
    primary = parseModelRef(primaryRef, raw, aliases, OPENCLAW_DEFAULT_MODEL.provider, "primary");
  } else {
    const configured = configuredProviderFallback(raw);
    primarySource = configured ? "configured-provider" : "openclaw-default";
    const { provider, model } = configured ?? OPENCLAW_DEFAULT_MODEL;
    primary = { ref: `${provider}/${model}`, provider, model, role: "primary" };
  }
  if (primary) models.push(primary);
  const defaultFallbacks = Array.isArray(record(defaults?.model)?.fallbacks) ? (record(defaults?.model)!.fallbacks as unknown[]).filter((f): f is string => typeof f === "string") : [];
  const fallbacks = fallbacksOverride(entry.model) ?? defaultFallbacks;
  for (const ref of fallbacks) {
    // Bare fallback ids take the primary's provider (doctor's parseModelRef(fallback, primary.provider)).
    const parsed = parseModelRef(ref, raw, aliases, primary?.provider ?? OPENCLAW_DEFAULT_MODEL.provider, "fallback");
    if (parsed) models.push(parsed);
  }
  return { models, primarySource };
}

/** splitTrailingAuthProfile (src/agents/model-ref-profile.ts): `provider/model@profile`. */
export function splitAuthProfile(raw: string): { model: string; profile?: string } {
  const trimmed = raw.trim();
  const lastSlash = trimmed.lastIndexOf("/");
  let at = trimmed.indexOf("@", lastSlash + 1);
  if (at <= 0) return { model: trimmed };
  const after = () => trimmed.slice(at + 1);
  // Date-versioned ids (model@20250101) and quantization tags (@q4_k_m, @8bit) are part of the model.
  if (/^\d{8}(?:@|$)/.test(after())) {
    at = trimmed.indexOf("@", at + 9);
    if (at < 0) return { model: trimmed };
  }
  if (/^(?:i?q\d+(?:_[a-z0-9]+)*|\d+bit)(?:@|$)/i.test(after())) {
    at = trimmed.indexOf("@", at + 1);
    if (at < 0) return { model: trimmed };
  }
  const model = trimmed.slice(0, at).trim();
  const profile = trimmed.slice(at + 1).trim();
  return model && profile ? { model, profile } : { model: trimmed };
}

/** Configured aliases: `agents.defaults.models` and the agent's own `models`, `{ "<provider/model>": { alias } }`. */
function aliasIndex(raw: Raw | undefined, entry: Raw): Map<string, string> {
  const index = new Map<string, string>();
  const add = (models: unknown) => {
    for (const [key, value] of Object.entries(record(models) ?? {})) {
      const alias = text(record(value)?.alias);
      if (alias) index.set(alias.toLowerCase(), key);
    }
  };
  add(record(record(raw?.agents)?.defaults)?.models);
  add(entry.models);
  return index;
}

/**
 * provider/model, a configured alias, or a bare id: a bare id takes the one
 * configured provider that lists it, else `defaultProvider` (OpenClaw warns
 * "specified without provider. Falling back to …").
 */
export function parseModelRef(ref: string, raw: Raw | undefined, aliases: Map<string, string>, defaultProvider: string, role: AgentModel["role"]): AgentModel | undefined {
  const { model: withoutProfile, profile } = splitAuthProfile(ref);
  if (!withoutProfile) return undefined;
  const target = aliases.get(withoutProfile.toLowerCase()) ?? withoutProfile;
  const slash = target.indexOf("/");
  const authProfile = profile ? { authProfile: profile } : {};
  if (slash > 0) {
    return { ref, provider: normalizeProviderId(target.slice(0, slash)), model: target.slice(slash + 1), role, ...authProfile };
  }
  const owners = Object.entries(record(record(raw?.models)?.providers) ?? {}).filter(([, config]) => {
    const models = record(config)?.models;
    return Array.isArray(models) && models.some((m) => record(m)?.id === target);
  });
  const provider = owners.length === 1 ? normalizeProviderId(owners[0]![0]) : defaultProvider;
  return { ref, provider, model: target, role, ...authProfile };
}

/**
 * resolveConfiguredProviderFallback: with no primary anywhere, the first
 * `models.providers` entry that lists a model, unless the default provider
 * itself lists the default model.
 */
function configuredProviderFallback(raw: Raw | undefined): { provider: string; model: string } | undefined {
  const providers = record(record(raw?.models)?.providers);
  if (!providers) return undefined;
  const ids = (config: unknown) => (Array.isArray(record(config)?.models) ? (record(config)!.models as unknown[]).map((m) => text(record(m)?.id)).filter((id): id is string => id !== undefined) : []);
  const defaultEntry = Object.entries(providers).find(([id]) => normalizeProviderId(id) === OPENCLAW_DEFAULT_MODEL.provider)?.[1];
  if (ids(defaultEntry).includes(OPENCLAW_DEFAULT_MODEL.model)) return undefined;
  for (const [provider, config] of Object.entries(providers)) {
    const first = ids(config)[0];
    if (first) return { provider: normalizeProviderId(provider), model: first };
  }
  return undefined;
}
