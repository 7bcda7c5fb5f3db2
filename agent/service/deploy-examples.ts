// The agent units shipped in deploy/launchd and deploy/systemd, rendered by the
// same code as `clawfleet agent install-service` from the gateway service
// OpenClaw installs by default (test/fixtures/macos and test/fixtures/systemd
// hold the real ones). A test fails when the shipped files differ from this;
// `node agent/service/deploy-examples.ts --write` rewrites them.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ServiceDefinition } from "../discovery/gateway-service.ts";
import { AGENT_LAUNCHD_LABEL, AGENT_SYSTEMD_UNIT } from "./agent-service-spec.ts";
import { renderAgentService } from "./install-plan.ts";
import { packageRoot } from "./program-paths.ts";

type GatewayExample = Pick<ServiceDefinition, "name" | "definitionPath" | "environment" | "environmentSources" | "envFiles" | "servicePath">;

/** Placeholders, not secrets: they show that secret-named variables stay out of the agent's unit. */
const EXAMPLE_TOKEN = "example-gateway-token-not-a-secret";
const EXAMPLE_KEY = "example-provider-key-not-a-secret";

function sources(env: Record<string, string>, kind: ServiceDefinition["environmentSources"][string]["kind"], path: string) {
  return Object.fromEntries(Object.keys(env).map((k) => [k, { kind, path }]));
}

/** ~/.openclaw/service-env/ai.openclaw.gateway.env as OpenClaw writes it (buildServiceEnvironment + the state dir's .env). */
function launchdGateway(): GatewayExample {
  const home = "/Users/openclaw";
  const envFile = `${home}/.openclaw/service-env/ai.openclaw.gateway.env`;
  const environment = {
    ANTHROPIC_API_KEY: EXAMPLE_KEY,
    HOME: home,
    NODE_OPTIONS: "--max-old-space-size=4096",
    OPENCLAW_GATEWAY_PORT: "18789",
    OPENCLAW_GATEWAY_TOKEN: EXAMPLE_TOKEN,
    OPENCLAW_LAUNCHD_LABEL: "ai.openclaw.gateway",
    OPENCLAW_SERVICE_KIND: "gateway",
    OPENCLAW_SERVICE_MARKER: "openclaw",
    OPENCLAW_SYSTEMD_UNIT: "openclaw-gateway.service",
    PATH: "/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
    TMPDIR: `${home}/.openclaw/tmp`,
  };
  return {
    name: "ai.openclaw.gateway",
    definitionPath: `${home}/Library/LaunchAgents/ai.openclaw.gateway.plist`,
    environment,
    environmentSources: sources(environment, "service-env-file", envFile),
    envFiles: [{ path: envFile, exists: true }],
    servicePath: environment.PATH,
  };
}

/** openclaw-gateway.service as OpenClaw writes it (test/fixtures/systemd/openclaw-gateway.service.template). */
function systemdGateway(): GatewayExample {
  const home = "/home/openclaw";
  const unit = `${home}/.config/systemd/user/openclaw-gateway.service`;
  const envFile = `${home}/.openclaw/gateway.systemd.env`;
  const inline = {
    HOME: home,
    NODE_OPTIONS: "--max-old-space-size=2048 --enable-source-maps",
    OPENCLAW_GATEWAY_PORT: "18789",
    OPENCLAW_SERVICE_KIND: "gateway",
    OPENCLAW_SERVICE_MARKER: "openclaw",
    OPENCLAW_STATE_DIR: `${home}/.openclaw`,
    OPENCLAW_SYSTEMD_UNIT: "openclaw-gateway.service",
    PATH: "/usr/local/bin:/usr/bin:/bin",
  };
  const fromFile = { ANTHROPIC_API_KEY: EXAMPLE_KEY, OPENCLAW_GATEWAY_TOKEN: EXAMPLE_TOKEN };
  return {
    name: "openclaw-gateway.service",
    definitionPath: unit,
    environment: { ...inline, ...fromFile },
    environmentSources: { ...sources(inline, "unit-environment", unit), ...sources(fromFile, "unit-environment-file", envFile) },
    envFiles: [{ path: envFile, exists: true, optional: true }],
    servicePath: inline.PATH,
  };
}

export const EXAMPLE_SECRETS = [EXAMPLE_TOKEN, EXAMPLE_KEY] as const;

/** Repo-relative path → content of every generated deploy example. */
export function deployExamples(): Record<string, string> {
  const flags = (stateDir: string) => ({ collector: "fleet-collector.example.ts.net:4317", nodeId: "mini-01", interval: "30s", stateDir });
  const launchd = renderAgentService({
    manager: "launchd",
    gateway: launchdGateway(),
    fallbackEnv: {},
    flags: flags("/Users/openclaw/Library/Application Support/clawfleet/agent"),
    nodePath: "/opt/homebrew/bin/node",
    launcher: "/opt/homebrew/lib/node_modules/clawfleet/bin/clawfleet.js",
    userName: "openclaw",
    hostname: "mini-01",
    logPath: "/Users/openclaw/Library/Logs/clawfleet-agent.log",
  });
  const systemd = renderAgentService({
    manager: "systemd",
    gateway: systemdGateway(),
    fallbackEnv: {},
    flags: { ...flags("/home/openclaw/.local/state/clawfleet/agent"), nodeId: "gw-01" },
    nodePath: "/usr/bin/node",
    launcher: "/usr/lib/node_modules/clawfleet/bin/clawfleet.js",
    userName: "openclaw",
    hostname: "gw-01",
  });
  return {
    [join("deploy", "launchd", `${AGENT_LAUNCHD_LABEL}.plist`)]: launchd.content,
    [join("deploy", "systemd", AGENT_SYSTEMD_UNIT)]: systemd.content,
  };
}

if (import.meta.main && process.argv.includes("--write")) {
  const root = packageRoot();
  for (const [path, content] of Object.entries(deployExamples())) {
    writeFileSync(join(root, path), content);
    process.stdout.write(`wrote ${path}\n`);
  }
}
