import { defineCommand } from "../../shared/cli.ts";
import { operatorIdentityDir } from "../../shared/pki/identity-files.ts";
import { runEnrollment } from "../../shared/pki/enroll-command-run.ts";

export const loginCommand = defineCommand({
  path: ["collector", "login"],
  help: `Usage: clawfleet collector login --collector HOST:PORT --token TOKEN

Gets an operator certificate for \`collector query\`: checks that the collector
holds the CA the token names, makes a private key here (0600), and keeps the
certificate and the collector's address, so later queries need no flag.

Get a token on the collector's host: clawfleet collector enroll NAME --operator

Options:
  --collector HOST:PORT   the collector (default: $CLAWFLEET_COLLECTOR)
  --token TOKEN           the line \`clawfleet collector enroll --operator\` printed
  -h, --help              show this help

Examples:
  clawfleet collector login --collector fleet-collector.tailnet.ts.net:4317 --token cfenroll1.…`,
  options: { collector: { type: "string" }, token: { type: "string" } },
  async run(values) {
    return runEnrollment(values, operatorIdentityDir(), "operator");
  },
});
