import { join } from "node:path";
import { defineCommand } from "../../shared/cli.ts";
import { dataDir } from "../../shared/paths.ts";
import { identityDir } from "../../shared/pki/identity-files.ts";
import { runEnrollment } from "../../shared/pki/enroll-command-run.ts";

export const enrollCommand = defineCommand({
  path: ["agent", "enroll"],
  help: `Usage: clawfleet agent enroll --collector HOST:PORT[,HOST:PORT…] --token TOKEN [--state-dir DIR]

Enrolls this host with the collector: checks that the collector holds the CA the
token names, makes a private key here (0600, it never leaves the host), sends a
certificate request with the one-time token, and keeps the certificate. \`agent run\`
then uses it with no further flag, reports as the node id the token was made for,
and renews it before it expires. With the fleet's collectors as a list (or
srv:NAME), it enrolls with the first that answers and \`agent run\` uses the list.

Get a token on the collector's host: clawfleet collector enroll NODE

Options:
  --collector LIST        the collector, or the fleet's: HOST:PORT,HOST:PORT or srv:NAME (default: $CLAWFLEET_COLLECTOR)
  --token TOKEN           the line \`clawfleet collector enroll\` printed
  --state-dir DIR         the agent's state directory (default: <data dir>/agent)
  -h, --help              show this help

Examples:
  clawfleet agent enroll --collector fleet-collector.tailnet.ts.net:4317 --token cfenroll1.…
  clawfleet agent enroll --collector collector-a.tailnet.ts.net:4317,collector-b.tailnet.ts.net:4317 --token cfenroll1.…`,
  options: { collector: { type: "string" }, token: { type: "string" }, "state-dir": { type: "string" } },
  async run(values) {
    const stateDir = values["state-dir"] ?? join(dataDir(), "agent");
    return runEnrollment(values, identityDir(stateDir), "node");
  },
});
