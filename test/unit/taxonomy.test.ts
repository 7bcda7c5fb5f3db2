import { describe, expect, it } from "vitest";
import { linkDependencies, passed, primaryFinding, problem, skipped, verdictOf } from "../../shared/finding.ts";
import { CODES, LAYERS, renderAction, isCode, type CodeSpec } from "../../shared/taxonomy.ts";

describe("taxonomy", () => {
  it("gives every code a known layer, a title and a concrete action", () => {
    for (const [code, spec] of Object.entries(CODES) as [string, CodeSpec][]) {
      expect(LAYERS, code).toContain(spec.layer);
      expect(spec.title.length, code).toBeGreaterThan(5);
      expect(spec.action, code).toMatch(/[`:]/); // names a command or a place
      for (const dep of spec.dependsOn ?? []) {
        if (dep.startsWith("layer:")) expect(LAYERS, `${code} depends on ${dep}`).toContain(dep.slice(6));
        else expect(isCode(dep), `${code} depends on unknown ${dep}`).toBe(true);
      }
    }
  });

  it("keeps every released code (scripts, silences and dashboards match on them)", () => {
    const released = "not_running not_listening not_ready service_not_loaded token_missing token_mismatch token_empty device_identity_required rate_limited api_key_missing credential_expired auth_store_unreadable tailscale_not_running tailscale_needs_login tailscale_key_expired serve_not_configured magicdns_unresolved tailnet_unreachable tls_failed headers_stripped proxy_attribution_required websocket_blocked multiple_binaries version_mismatch service_env_missing token_drift config_invalid config_not_applied config_path_mismatch credentials_exposed sleep_enabled slept_recently thermal_pressure openclaw_vulnerable node_runtime_unsupported gateway_exposed auth_disabled insecure_transport secret_in_history check_timeout check_error silent_asleep silent_unreachable clock_skew identity_conflict token_shared simultaneous_rotation";
    for (const code of released.split(" ")) expect(isCode(code), code).toBe(true);
  });

  it("fills action placeholders from evidence and reads missing ones as words", () => {
    expect(renderAction("not_listening", { pid: "42", port: "18789" })).toContain("pid 42");
    expect(renderAction("not_listening", { pid: "42", port: "18789" })).toContain("127.0.0.1:18789");
    expect(renderAction("token_missing", {})).toContain("gateway.auth.token in the config path");
    expect(renderAction("credential_expired", {})).toMatch(/^The provider credential of agent the agent expired/);
    expect(renderAction("credential_expired", { provider: "anthropic", agent: "night" })).toMatch(/^The anthropic credential of agent night expired/);
  });
});

describe("verdict and primary finding", () => {
  it("is ok with only passed and skipped checks", () => {
    const findings = [passed("gateway", "gateway", "up"), skipped("tunnel", "tunnel", "no tailscale")];
    expect(verdictOf(findings)).toBe("ok");
    expect(primaryFinding(linkDependencies(findings))).toBeNull();
  });

  it("makes the gateway the root cause and marks the session failure as its consequence", () => {
    const findings = linkDependencies([
      problem("session", "token_mismatch", "rejected"),
      problem("gateway", "not_ready", "starting"),
      problem("drift", "multiple_binaries", "two"),
    ]);
    expect(findings.map((f) => f.layer)).toEqual(["gateway", "session", "drift"]);
    expect(findings[1]!.dependsOn).toBe("not_ready");
    expect(primaryFinding(findings)?.code).toBe("not_ready");
    expect(verdictOf(findings)).toBe("fail");
  });

  it("prefers a failure to a warning in an earlier layer, and an earlier layer among equals", () => {
    const findings = linkDependencies([problem("drift", "multiple_binaries", "two"), problem("baseline", "auth_disabled", "off"), problem("provider", "api_key_missing", "none")]);
    expect(primaryFinding(findings)?.code).toBe("api_key_missing");
    expect(primaryFinding(linkDependencies([problem("drift", "multiple_binaries", "two"), problem("baseline", "auth_disabled", "off")]))?.code).toBe("auth_disabled");
  });

  it("ranks a cause with the earliest layer it explains: a newer OpenClaw's config that keeps the gateway down outranks a missing provider key", () => {
    const findings = linkDependencies([
      problem("provider", "api_key_missing", "none"),
      problem("drift", "config_invalid", "unknown key"),
      problem("startup", "config_refused", "refused"),
      problem("startup", "openclaw_downgraded", "older binary"),
      problem("gateway", "not_running", "down"),
      problem("restarts", "crash_loop", "looping"),
    ]);
    expect(findings.find((f) => f.code === "config_refused")!.dependsOn).toBe("openclaw_downgraded");
    expect(findings.find((f) => f.code === "config_invalid")!.dependsOn).toBe("openclaw_downgraded");
    expect(findings.find((f) => f.code === "crash_loop")!.dependsOn).toBe("openclaw_downgraded");
    expect(findings.find((f) => f.code === "not_running")!.dependsOn).toBe("openclaw_downgraded");
    expect(primaryFinding(findings)?.code).toBe("openclaw_downgraded");
    // A drift cause of a session failure ranks with the session layer, ahead of the provider layer…
    const placeholder = linkDependencies([problem("provider", "api_key_missing", "none"), problem("session", "token_mismatch", "rejected"), problem("drift", "secret_placeholder", "placeholder")]);
    expect(placeholder.find((f) => f.code === "token_mismatch")!.dependsOn).toBe("secret_placeholder");
    expect(primaryFinding(placeholder)?.code).toBe("secret_placeholder");
    // …and explaining nothing, a drift problem ranks with its own layer.
    expect(primaryFinding(linkDependencies([problem("provider", "api_key_missing", "none"), problem("drift", "config_invalid", "bind")]))?.code).toBe("api_key_missing");
  });

  it("hides tunnel failures behind a logged-out Tailscale", () => {
    const findings = linkDependencies([problem("tunnel", "tailnet_unreachable", "no answer"), problem("tunnel", "tailscale_needs_login", "logged out")]);
    expect(findings.find((f) => f.code === "tailnet_unreachable")!.dependsOn).toBe("tailscale_needs_login");
    expect(primaryFinding(findings)?.code).toBe("tailscale_needs_login");
  });

  it("calls a run with a crashed check unknown, not ok", () => {
    expect(verdictOf([passed("gateway", "gateway", "up"), problem("session", "check_error", "boom", {}, "error")])).toBe("unknown");
  });
});
