// Every subcommand: its words, one line for the overview, and a loader, so a
// run pays only for the modules its own command needs (`agent check` must not
// load gRPC, SQLite and prom-client).
import type { Command } from "../shared/cli.ts";

export interface CommandEntry {
  path: readonly string[];
  summary: string;
  load(): Promise<Command<any>>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { path: ["agent", "check"], summary: "Run every check once on this host and say which layer is broken (--ticket: Markdown for a change ticket)", load: async () => (await import("../agent/cli/check-command.ts")).checkCommand },
  { path: ["agent", "run"], summary: "Run the agent daemon: check every interval and report to the collector", load: async () => (await import("../agent/cli/run-command.ts")).runCommand },
  { path: ["collector", "serve"], summary: "Run the collector: gRPC ingest and query, /metrics, SQLite store", load: async () => (await import("../collector/cli/serve-command.ts")).serveCommand },
  { path: ["collector", "query", "nodes"], summary: "List every node with its state, worst layer and last report age", load: async () => (await import("../collector/query/nodes-command.ts")).nodesCommand },
  { path: ["collector", "query", "node"], summary: "One node: findings with actions, recent events, sleep history, credential fingerprints", load: async () => (await import("../collector/query/node-command.ts")).nodeCommand },
  { path: ["collector", "query", "events"], summary: "The event log: layer changes, findings, rotations, silences (--since 1h)", load: async () => (await import("../collector/query/events-command.ts")).eventsCommand },
  { path: ["collector", "query", "tokens"], summary: "Every credential fingerprint, where it is used, and its rotation history (--ticket: for a change ticket)", load: async () => (await import("../collector/query/tokens-command.ts")).tokensCommand },
  { path: ["agent", "enroll"], summary: "Enroll this host with the collector: a key made here, a certificate for the token's node id", load: async () => (await import("../agent/cli/enroll-command.ts")).enrollCommand },
  { path: ["collector", "enroll"], summary: "Print a one-time enrollment token for a node (or --operator NAME)", load: async () => (await import("../collector/cli/enroll-command.ts")).enrollCommand },
  { path: ["collector", "revoke"], summary: "Revoke a node's (or operator's) certificates; its live stream ends at once", load: async () => (await import("../collector/cli/revoke-command.ts")).revokeCommand },
  { path: ["collector", "login"], summary: "Get an operator certificate for `collector query` with a token", load: async () => (await import("../collector/cli/login-command.ts")).loginCommand },
  { path: ["sim"], summary: "Simulate N nodes against a collector with the agent's protocol and a failure mix (load, demos)", load: async () => (await import("../agent/sim/sim-command.ts")).simCommand },
  { path: ["start"], summary: "Collector plus an agent for this host, on embedded defaults (what `npm start` runs)", load: async () => (await import("./start-command.ts")).startCommand },
  { path: ["agent", "install-service"], summary: "Write (and with --apply load) the agent's launchd/systemd user service, with the gateway's PATH and environment", load: async () => (await import("../agent/cli/install-service-command.ts")).installServiceCommand },
  { path: ["agent", "uninstall-service"], summary: "Unload and remove the agent's service (dry run unless --apply)", load: async () => (await import("../agent/cli/uninstall-service-command.ts")).uninstallServiceCommand },
];
