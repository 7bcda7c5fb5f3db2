// `clawfleet collector query tokens --ticket` against a real collector process
// with agents speaking the real protocol: a provider key copied onto two
// nodes, a gateway token rotated on one, and a node whose credential source is
// hostile Markdown. The ticket says where each credential is used, when it
// changed and what to roll back to, holds no secret, and the hostile source
// stays inside its code span.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localFingerprint } from "../../shared/fingerprint.ts";
import { healthyFindings, startSimulatedAgent, type SimulatedAgent } from "../helpers/agent-simulator.ts";
import { startCollectorProcess, type TestCollector } from "../helpers/collector.ts";
import { series, waitForMetrics } from "../helpers/metrics.ts";
import { runClawfleet, stopAll } from "../helpers/processes.ts";

const SHARED_KEY = "sk-test-cf-ticket-key-copied-into-ci-4b7e";
const LAPTOP_TOKEN = "cf-ticket-laptop-token-8e1a4c7b3d9f";
const CI_TOKEN = "cf-ticket-ci-token-3d9f7b4c8e1a2d6f";
const CI_TOKEN_NEW = "cf-ticket-ci-token-rotated-6a2f9c1e";
const MINI_TOKEN = "cf-ticket-mini-token-1f6e9a3c7b2d";
const SECRETS = [SHARED_KEY, LAPTOP_TOKEN, CI_TOKEN, CI_TOKEN_NEW, MINI_TOKEN];
/** A source an agent may send (the collector bounds only its length): a newline, a fence, a heading, HTML. */
const HOSTILE_SOURCE = "env EVIL`` x\n````\n# INJECTED <img src=x onerror=alert(1)>";

const KEY = { kind: "provider_key", source: "env ANTHROPIC_API_KEY", secret: SHARED_KEY, subject: "main/anthropic" } as const;
const token = (secret: string, source = "config gateway.auth.token") => ({ kind: "gateway_token", source, secret, subject: "gateway:18789" }) as const;

interface TokensJson {
  fingerprints: { fingerprint: string; kind: string; nodes: string[]; uses: { node: string; source: string; retired: string | null }[] }[];
}

describe("collector query tokens --ticket", () => {
  let collector: TestCollector;
  let dir: string;
  const agents: Record<string, SimulatedAgent> = {};
  const printed: string[] = [];
  const query = async (...args: string[]) => {
    const result = await runClawfleet(["collector", "query", "tokens", ...args, "--insecure", "--collector", collector.grpcAddress]);
    printed.push(result.stdout, result.stderr);
    return result;
  };
  const fingerprintOf = async (node: string, source: string) =>
    (JSON.parse((await query("--json")).stdout) as TokensJson).fingerprints.find((f) => f.uses.some((u) => u.node === node && u.source === source && u.retired === null))!.fingerprint;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-tokens-ticket-"));
    collector = await startCollectorProcess(join(dir, "c.db"));
    const start = (nodeId: string, credentials: NonNullable<Parameters<typeof startSimulatedAgent>[0]["credentials"]>) => {
      agents[nodeId] = startSimulatedAgent({ collector: collector.grpcAddress, nodeId, maySleep: false, findings: healthyFindings(), intervalMs: 1000, credentials });
    };
    start("dev-laptop", [KEY, token(LAPTOP_TOKEN)]);
    start("ci-runner-1", [KEY, token(CI_TOKEN)]);
    start("mini-01", [token(MINI_TOKEN, HOSTILE_SOURCE)]);
    await Promise.all(Object.values(agents).map((a) => a.connected));
    await waitForMetrics(collector.httpAddress, (s) => s.get(series("clawfleet_finding", { node: "ci-runner-1", layer: "fleet", code: "token_shared" })) === 1);
  });
  afterAll(async () => {
    Object.values(agents).forEach((a) => a.stop());
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lists every fingerprint in use, grouped by kind, with where it is used and its blast radius; exit 1 as a key is shared", async () => {
    const shared = await fingerprintOf("ci-runner-1", "env ANTHROPIC_API_KEY");
    const ticket = await query("--ticket");
    expect(ticket.code).toBe(1);
    const md = ticket.stdout;
    expect(md).toMatch(/^## Credential ticket: every credential in use$/m);
    expect(md.indexOf("### gateway_token")).toBeLessThan(md.indexOf("### provider_key"));
    expect(md).toContain(`#### \`${shared}\`: in use on 2 nodes (shared: token_shared, give each node its own)`);
    const keySection = md.slice(md.indexOf(`#### \`${shared}\``));
    expect(keySection).toMatch(/^- `ci-runner-1` `env ANTHROPIC_API_KEY` for `main\/anthropic`, first seen \d{4}-\d\d-\d\dT[\d:]+Z, last seen /m);
    expect(keySection).toMatch(/^- `dev-laptop` `env ANTHROPIC_API_KEY`/m);
    expect(md).toMatch(/^- \[ \] Blast radius: `ci-runner-1`, `dev-laptop`, `mini-01`/m);

    // The hostile source is one code span on one line, delimited by more backticks than it holds.
    expect(md).toContain("- `mini-01` `````env EVIL`` x ⏎ ```` ⏎ # INJECTED <img src=x onerror=alert(1)>`````");
    for (const line of md.split("\n")) {
      if (line.includes("INJECTED")) expect(line.startsWith("- ")).toBe(true);
      if (line.startsWith("#")) expect(line).toMatch(/^(## Credential ticket|### (gateway_token|provider_key|Change plan)$|#### `hmac:[0-9a-f]+`: |##### (Where it is used|When it changed|What to roll back to)$)/);
    }
    expect(md).not.toMatch(/^ {0,3}```/m);
  });

  it("for one rotated fingerprint: when it changed and what to roll back to; the old one is retired", async () => {
    const old = await fingerprintOf("ci-runner-1", "config gateway.auth.token");
    agents["ci-runner-1"]!.report(healthyFindings(), false, { credentials: [KEY, token(CI_TOKEN_NEW)] });
    await waitForMetrics(collector.httpAddress, (s) => s.get(series("clawfleet_credential_rotations_total", { node: "ci-runner-1", kind: "gateway_token" })) === 1);
    const current = await fingerprintOf("ci-runner-1", "config gateway.auth.token");
    expect(current).not.toBe(old);

    const ticket = await query("--ticket", "--fingerprint", current);
    expect(ticket.code).toBe(0);
    const md = ticket.stdout;
    expect(md).toMatch(new RegExp(`^## Credential ticket: \`${current}\` \\(gateway_token\\)$`, "m"));
    expect(md).toContain("Blast radius: in use on 1 node.");
    expect(md).toMatch(new RegExp(`^- \\d{4}-[\\dT:-]+Z \`ci-runner-1\` \`config gateway.auth.token\`: \`${old}\` → \`${current}\`$`, "m"));
    expect(md).toMatch(new RegExp(`^- \`ci-runner-1\` \`config gateway.auth.token\`: \`${old}\` \\(in use until \\d{4}-[\\dT:-]+Z\\)$`, "m"));
    expect(md).toContain("### Change plan");

    const retired = await query("--ticket", "--fingerprint", old);
    expect(retired.code).toBe(0);
    expect(retired.stdout).toContain("Blast radius: retired, in use on no node.");
    expect(retired.stdout).toMatch(/^- no longer: `ci-runner-1` `config gateway.auth.token`, from .* until \d{4}-/m);
    expect(retired.stdout).toMatch(new RegExp(`: \`${old}\` → \`${current}\`$`, "m"));
    expect(retired.stdout).toContain("Nothing uses it now");
  });

  it("refuses --json with --ticket, --fingerprint alone, a value that is no fingerprint and an unknown one (exit 2), and documents --ticket", async () => {
    const both = await query("--ticket", "--json");
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--json and --ticket are two outputs: choose one");
    expect((await query("--fingerprint", "hmac:0123456789abcdef")).code).toBe(2);
    const secret = await query("--ticket", "--fingerprint", SHARED_KEY);
    expect(secret.code).toBe(2);
    expect(secret.stderr).toContain("--fingerprint takes a fingerprint (hmac:…)");
    const unknown = await query("--ticket", "--fingerprint", "hmac:0123456789abcdef");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("no node has reported the credential hmac:0123456789abcdef");
    const local = await query("--ticket", "--fingerprint", localFingerprint(LAPTOP_TOKEN));
    expect(local.code).toBe(2);
    expect(local.stderr).toContain("sha256: fingerprints are a host's own");

    const help = await runClawfleet(["collector", "query", "tokens", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: clawfleet collector query tokens \[--collector HOST:PORT\] \[--json \| --ticket \[--fingerprint FP\]\]/);
    expect(help.stdout).toMatch(/--ticket +print Markdown to paste into a change ticket/);
  });

  it("printed no secret and no local fingerprint of one, in any ticket or error", () => {
    const everything = printed.join("\n");
    expect(everything).toContain("## Credential ticket");
    // Only the operator's own mistyped secret went in as an argument, and no output repeats it.
    for (const secret of SECRETS) {
      expect(everything).not.toContain(secret);
      if (secret !== LAPTOP_TOKEN) expect(everything).not.toContain(localFingerprint(secret));
    }
  });
});
