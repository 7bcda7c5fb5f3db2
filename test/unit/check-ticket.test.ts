// The ticket's rendering decisions a real gateway cannot be made to show on
// demand: a secret on the service's command line, a launchd service, a run
// whose observations were unavailable.
import { describe, expect, it } from "vitest";
import type { CheckRun } from "../../agent/checks/run-checks.ts";
import { checkTicket, programWords } from "../../agent/report/check-ticket.ts";
import type { ServiceDefinition } from "../../agent/discovery/gateway-service.ts";
import type { ConfigFile } from "../../agent/discovery/openclaw-config.ts";
import { localFingerprint } from "../../shared/fingerprint.ts";
import { problem } from "../../shared/finding.ts";

const TOKEN = "cf-unit-ticket-token-7e3b9a1c5d2f";

describe("the service's command line in a ticket", () => {
  it("fingerprints a secret after a secret-named flag, after `=`, or shaped like a key, and keeps the rest", () => {
    const argv = ["/usr/bin/node", "--max-old-space-size=4096", "/opt/openclaw/openclaw.mjs", "gateway", "--port", "18789", "--token", TOKEN, "--password=hunter2-long", "--bind", "loopback", "sk-ant-api03-abcdefghijklmnop"];
    expect(programWords(argv, localFingerprint)).toEqual([
      "/usr/bin/node", "--max-old-space-size=4096", "/opt/openclaw/openclaw.mjs", "gateway", "--port", "18789",
      "--token", localFingerprint(TOKEN), `--password=${localFingerprint("hunter2-long")}`, "--bind", "loopback", localFingerprint("sk-ant-api03-abcdefghijklmnop"),
    ]);
  });
});

describe("a ticket from a run", () => {
  const launchd: ServiceDefinition = {
    manager: "launchd", name: "ai.openclaw.gateway", definitionPath: "/Users/ops/Library/LaunchAgents/ai.openclaw.gateway.plist", loaded: true, state: "running", pid: 812,
    programArguments: ["/opt/homebrew/bin/node", "/opt/homebrew/lib/node_modules/openclaw/dist/index.js", "gateway", "--port", "18789", "--token", TOKEN],
    environment: { OPENCLAW_GATEWAY_TOKEN: TOKEN, HOME: "/Users/ops" }, environmentSources: {}, envFiles: [], servicePath: "/opt/homebrew/bin:/usr/bin:/bin",
  };
  const finding = problem("session", "token_mismatch", "The gateway rejects the client token.", { accepted: localFingerprint(TOKEN) });
  const run: CheckRun = {
    startedAtMs: Date.UTC(2026, 11, 5, 3, 0, 0), durationMs: 240, verdict: "fail", primary: finding, findings: [finding],
    credentials: [{ kind: "gateway_token", source: "service ai.openclaw.gateway env", fingerprint: localFingerprint(TOKEN), subject: "gateway:18789" }],
    observed: new Map<string, unknown>([["services", { services: [launchd], errors: [] }]]),
  };
  const ticket = checkTicket({
    node: { id: "mini-07", hostname: "mini-07.local", platform: "darwin" }, run,
    world: { stateDir: "/Users/ops/.openclaw", config: { path: "/Users/ops/.openclaw/openclaw.json", exists: true } as ConfigFile, port: 18789, portSource: "config gateway.port" },
    user: { name: "ops", uid: 501 }, agentVersion: "0.1.0", fingerprint: localFingerprint,
  });

  it("freezes a launchd service with its label, program (token fingerprinted) and variable names, and the launchctl restart in the plan", () => {
    expect(ticket).not.toContain(TOKEN);
    expect(ticket).toContain("- Time: `2026-12-05T03:00:00.000Z` (the run took 240 ms)");
    expect(ticket).toContain("- Agent ran as: `ops` (uid 501)");
    expect(ticket).toContain("- Service: launchd `ai.openclaw.gateway` (loaded, `running`, pid 812)");
    expect(ticket).toContain(`  - program: \`/opt/homebrew/bin/node /opt/homebrew/lib/node_modules/openclaw/dist/index.js gateway --port 18789 --token ${localFingerprint(TOKEN)}\``);
    expect(ticket).toContain("  - variables it sets (names only): `HOME`, `OPENCLAW_GATEWAY_TOKEN`");
    expect(ticket).toContain("**FAIL**; primary finding `session / token_mismatch`");
    expect(ticket).toContain("`launchctl kickstart -k gui/$(id -u)/ai.openclaw.gateway`");
    expect(ticket).toContain(`  - \`service ai.openclaw.gateway env\` → \`${localFingerprint(TOKEN)}\``);
  });

  it("says what the run did not observe instead of leaving it out", () => {
    expect(ticket).toContain("- `openclaw` on this shell's PATH: not observed in this run");
    expect(ticket).toContain("The gateway's logs were not read in this run.");
    expect(ticket).toMatch(/### The gateway's environment \(names only\)\nNot observed in this run\./);
  });
});
