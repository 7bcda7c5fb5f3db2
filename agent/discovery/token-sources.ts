// Every place a gateway token can come from, for clients and for the gateway
// itself: the CLI's config and shell, the state dir's .env, the service
// definition's environment, and the live process's environment and argv.
import type { ServiceDefinition } from "./gateway-service.ts";
import type { LiveGateway } from "./live-gateway.ts";
import type { OpenClawWorld, TokenSource } from "./openclaw-world.ts";

export interface TokenSourceEntry extends TokenSource {
  /** Who reads this source: a client in this shell, the service definition, the running process. */
  side: "client" | "service" | "process";
}

export function allTokenSources(world: OpenClawWorld, services: readonly ServiceDefinition[], live: LiveGateway | undefined): TokenSourceEntry[] {
  const entries: TokenSourceEntry[] = world.tokenSources.map((s) => ({ ...s, side: "client" as const }));
  for (const service of services) {
    const value = service.environment.OPENCLAW_GATEWAY_TOKEN;
    if (value !== undefined) {
      const where = service.environmentSources.OPENCLAW_GATEWAY_TOKEN?.path ?? service.definitionPath ?? service.name;
      entries.push({ source: `service ${service.name} env (${where})`, value, side: "service" });
    }
  }
  if (live) {
    const fromArgv = tokenFromArgv(live.argv);
    if (fromArgv !== undefined) entries.push({ source: `gateway pid ${live.pid} --token`, value: fromArgv, side: "process" });
    const fromEnv = live.env?.OPENCLAW_GATEWAY_TOKEN;
    if (fromEnv !== undefined) entries.push({ source: `gateway pid ${live.pid} env OPENCLAW_GATEWAY_TOKEN`, value: fromEnv, side: "process" });
  }
  return entries;
}

export function tokenFromArgv(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--token") return argv[i + 1];
    if (argv[i]!.startsWith("--token=")) return argv[i]!.slice("--token=".length);
  }
  return undefined;
}

/** Distinct non-empty token values, each with every source that holds it. */
export function groupByValue(entries: readonly TokenSourceEntry[]): Map<string, TokenSourceEntry[]> {
  const groups = new Map<string, TokenSourceEntry[]>();
  for (const entry of entries) {
    if (!entry.value) continue;
    const group = groups.get(entry.value) ?? [];
    group.push(entry);
    groups.set(entry.value, group);
  }
  return groups;
}
