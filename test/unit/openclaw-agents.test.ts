// Which agents a config defines, where their credentials live and which
// providers their models call, per the pinned OpenClaw's roster and model rules.
import { describe, expect, it } from "vitest";
import { OPENCLAW_DEFAULT_MODEL, agentEntries, configuredAgents, normalizeAgentId, providersOf, splitAuthProfile } from "../../agent/discovery/openclaw-agents.ts";

const paths = { stateDir: "/srv/oc/.openclaw", home: "/home/ops" };

describe("configured OpenClaw agents", () => {
  it("implies one main agent under <stateDir>/agents/main/agent on OpenClaw's default model when nothing is configured", () => {
    const [main, ...rest] = configuredAgents(undefined, paths);
    expect(rest).toEqual([]);
    expect(main).toMatchObject({ id: "main", agentDir: "/srv/oc/.openclaw/agents/main/agent", agentDirConfigured: false, primarySource: "openclaw-default" });
    // src/agents/defaults.ts in openclaw 2026.9.6: openai/gpt-6-astra, not anthropic.
    expect(main!.models).toEqual([{ ref: "openai/gpt-6-astra", provider: "openai", model: "gpt-6-astra", role: "primary" }]);
    expect(OPENCLAW_DEFAULT_MODEL.provider).toBe("openai");
  });

  it("reads the keyed roster `openclaw agents add` writes, with per-agent agentDir and strict string models", () => {
    // Shape written by `openclaw agents add work --workspace … --model xai/grok-4 --non-interactive`
    // after `openclaw models set anthropic/claude-opus-4-6` (openclaw 2026.9.6).
    const config = {
      agents: {
        ownership: "explicit",
        defaults: { systemAgent: { agentId: "main" }, model: { primary: "anthropic/claude-opus-4-6", fallbacks: ["openrouter/anthropic/claude-sonnet-4.5"] } },
        entries: {
          main: { workspace: "/srv/oc/.openclaw/workspace" },
          work: { name: "work", workspace: "/srv/ws-work", agentDir: "/srv/oc/.openclaw/agents/work/agent", model: "xai/grok-4" },
          Night_Shift: { agentDir: "~/agents/night", model: { primary: "anthropic/claude-opus-4-6" } },
          ops: { model: { primary: "google/gemini-3-pro", fallbacks: ["gemini-3-flash", "xai/grok-4@backup"] } },
        },
      },
    };
    const agents = configuredAgents(config, paths);
    expect(agents.map((a) => a.id)).toEqual(["main", "work", "night_shift", "ops"]);
    const [main, work, night, ops] = agents;
    // No model of its own: the defaults' primary and fallbacks.
    expect(main!.primarySource).toBe("defaults");
    expect(providersOf(main!)).toEqual(["anthropic", "openrouter"]);
    expect(main!.models[1]).toMatchObject({ role: "fallback", provider: "openrouter", model: "anthropic/claude-sonnet-4.5" });
    // A string model is strict: the defaults' fallbacks do not apply.
    expect(work).toMatchObject({ agentDir: "/srv/oc/.openclaw/agents/work/agent", agentDirConfigured: true, primarySource: "agent" });
    expect(providersOf(work!)).toEqual(["xai"]);
    // An object with a primary and no `fallbacks` is strict too; `~` is the home directory.
    expect(night!.agentDir).toBe("/home/ops/agents/night");
    expect(providersOf(night!)).toEqual(["anthropic"]);
    // Bare fallback ids take the primary's provider; `@profile` pins an auth profile.
    expect(ops!.agentDir).toBe("/srv/oc/.openclaw/agents/ops/agent");
    expect(ops!.models).toEqual([
      { ref: "google/gemini-3-pro", provider: "google", model: "gemini-3-pro", role: "primary" },
      { ref: "gemini-3-flash", provider: "google", model: "gemini-3-flash", role: "fallback" },
      { ref: "xai/grok-4@backup", provider: "xai", model: "grok-4", role: "fallback", authProfile: "backup" },
    ]);
  });

  it("falls back to the legacy agents.list array only when agents.entries is absent", () => {
    const list = { agents: { list: [{ id: "home", default: true }, { id: "Work", agentDir: "/a/w" }, { id: "home" }] } };
    expect(agentEntries(list).map((e) => e.id)).toEqual(["home", "work"]);
    expect(configuredAgents(list, paths)[1]!.agentDir).toBe("/a/w");
    const both = { agents: { entries: { solo: {} }, list: [{ id: "ignored" }] } };
    expect(agentEntries(both).map((e) => e.id)).toEqual(["solo"]);
  });

  it("configures no agent at all when the roster is present but empty", () => {
    expect(configuredAgents({ agents: { entries: {} } }, paths)).toEqual([]);
    expect(configuredAgents({ agents: { list: [] } }, paths)).toEqual([]);
  });

  it("resolves configured aliases and bare ids a configured provider lists; other bare ids go to OpenClaw's default provider", () => {
    const config = {
      models: { providers: { lab: { baseUrl: "http://10.0.0.5:8000/v1", api: "openai-completions", models: [{ id: "qwen3-32b" }] } } },
      agents: {
        defaults: { models: { "anthropic/claude-opus-4-6": { alias: "Opus" } } },
        entries: { a: { model: "opus" }, b: { model: "qwen3-32b" }, c: { model: "mystery-model" } },
      },
    };
    const [a, b, c] = configuredAgents(config, paths);
    expect(a!.models[0]).toMatchObject({ provider: "anthropic", model: "claude-opus-4-6", ref: "opus" });
    expect(b!.models[0]).toMatchObject({ provider: "lab", model: "qwen3-32b" });
    expect(c!.models[0]).toMatchObject({ provider: "openai", model: "mystery-model" });
  });

  it("uses the first configured provider model when no primary is set anywhere", () => {
    const config = { models: { providers: { lab: { models: [{ id: "llama-4" }] } } } };
    const [main] = configuredAgents(config, paths);
    expect(main).toMatchObject({ primarySource: "configured-provider", models: [{ provider: "lab", model: "llama-4", role: "primary" }] });
    // …unless the default provider itself offers the default model.
    const withDefault = { models: { providers: { lab: { models: [{ id: "llama-4" }] }, openai: { models: [{ id: "gpt-6-astra" }] } } } };
    expect(configuredAgents(withDefault, paths)[0]!.primarySource).toBe("openclaw-default");
  });

  it("normalizes agent ids and splits auth-profile suffixes the way OpenClaw does", () => {
    expect(normalizeAgentId(" Work ")).toBe("work");
    expect(normalizeAgentId("night shift!")).toBe("night-shift");
    expect(normalizeAgentId("")).toBe("main");
    expect(splitAuthProfile("anthropic/claude-opus-4-6@work")).toEqual({ model: "anthropic/claude-opus-4-6", profile: "work" });
    expect(splitAuthProfile("vertex/claude@20250101")).toEqual({ model: "vertex/claude@20250101" });
    expect(splitAuthProfile("ollama/qwen3@q4_k_m")).toEqual({ model: "ollama/qwen3@q4_k_m" });
    expect(splitAuthProfile("user@host/model")).toEqual({ model: "user@host/model" });
  });
});
