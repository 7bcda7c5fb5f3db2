import { defineCommand } from "../../shared/cli.ts";
import { runUninstallService, systemHost } from "../service/service-commands.ts";

export const uninstallServiceCommand = defineCommand({
  path: ["agent", "uninstall-service"],
  help: `Usage: clawfleet agent uninstall-service [--apply]

Undoes \`clawfleet agent install-service\`: unloads the agent's service
(launchctl bootout / systemctl --user disable --now) and removes its file. The
agent's state dir (sequence number, fleet key) is kept.

Without --apply it only prints what it would do.

Options:
  --apply      unload and remove it
  -h, --help   show this help

Examples:
  clawfleet agent uninstall-service
  clawfleet agent uninstall-service --apply`,
  options: {
    apply: { type: "boolean" },
  },
  async run(values) {
    return runUninstallService(values, systemHost(), process.stdout);
  },
});
