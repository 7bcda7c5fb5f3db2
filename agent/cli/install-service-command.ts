import { defineCommand } from "../../shared/cli.ts";
import { DEFAULT_GRPC_ADDRESS } from "../../shared/defaults.ts";
import { runInstallService, systemHost } from "../service/service-commands.ts";

export const installServiceCommand = defineCommand({
  path: ["agent", "install-service"],
  help: `Usage: clawfleet agent install-service [--collector HOST:PORT[,HOST:PORT…] | srv:NAME] [--node-id ID] [--interval 30s] [--state-dir DIR] [--node PATH] [--apply]

Writes the service that runs \`clawfleet agent run\` on this host, next to the
gateway's own: a LaunchAgent (~/Library/LaunchAgents/ai.clawfleet.agent.plist)
on macOS, a systemd user unit (~/.config/systemd/user/clawfleet-agent.service)
on Linux. Run it as the user who runs the gateway.

The unit copies PATH and the OpenClaw variables (HOME, OPENCLAW_STATE_DIR,
OPENCLAW_CONFIG_PATH, OPENCLAW_PROFILE, OPENCLAW_GATEWAY_PORT…) from the
gateway's service definition, so the agent and the gateway see the same world.
Secrets (names with TOKEN, KEY, SECRET, PASSWORD…) are never copied: on Linux
the unit loads the gateway's own EnvironmentFile= instead; the agent reads the
gateway's service definition itself either way.

Without --apply it only prints the file, where it would go and what it copied.

Options:
  --collector LIST        collector gRPC address, several (HOST:PORT,HOST:PORT) or srv:NAME, as \`agent run\` takes it
                          (default: $CLAWFLEET_COLLECTOR, what \`agent enroll\` recorded, or ${DEFAULT_GRPC_ADDRESS})
  --node-id ID            this node's fleet id (default: $CLAWFLEET_NODE_ID or short hostname)
  --interval DURATION     time between check runs (default 30s)
  --state-dir DIR         the agent's sequence number and fleet key (default: <data dir>/agent)
  --node PATH             Node >= 24.16 to run the agent with (default: the one running this)
  --apply                 write the file and load it (launchctl bootstrap / systemctl --user enable --now)
  -h, --help              show this help

Examples:
  clawfleet agent install-service --collector fleet-collector.tailnet.ts.net:4317
  clawfleet agent install-service --collector 100.101.102.103:4317 --node-id mini-03 --apply`,
  options: {
    collector: { type: "string" },
    "node-id": { type: "string" },
    interval: { type: "string" },
    "state-dir": { type: "string" },
    node: { type: "string" },
    apply: { type: "boolean" },
  },
  async run(values) {
    return runInstallService(values, systemHost(), process.stdout);
  },
});
