import { defineCommand } from "../../shared/cli.ts";
import { EXIT_STATUS } from "../../shared/finding.ts";
import { localFingerprint } from "../../shared/fingerprint.ts";
import { painter } from "../../shared/style.ts";
import { ALL_CHECKS } from "../checks/index.ts";
import { runChecks } from "../checks/run-checks.ts";
import { nodeInfo } from "../discovery/node-identity.ts";
import { discoverOpenClaw } from "../discovery/openclaw-world.ts";
import { checkDocument } from "../report/check-json.ts";
import { checkText } from "../report/check-text.ts";
import { systemRunner } from "../platform/command-runner.ts";

export const checkCommand = defineCommand({
  path: ["agent", "check"],
  usageExitStatus: 3,
  help: `Usage: clawfleet agent check [--json] [--verbose] [--node-id ID]

Runs the gateway, session and other checks once against the local OpenClaw
gateway (found as the openclaw CLI finds it: OPENCLAW_STATE_DIR,
OPENCLAW_CONFIG_PATH, OPENCLAW_GATEWAY_PORT, OPENCLAW_GATEWAY_TOKEN, HOME) and
prints the verdict, the root cause and the next action. Secrets are shown only
as fingerprints (sha256:… of the value).

Options:
  --json          print the clawfleet.check.v1 document instead of text
  --verbose       show the evidence behind every finding
  --node-id ID    name this host in the output (default: short hostname)
  -h, --help      show this help

Exit status (Nagios convention): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN or usage error.

Examples:
  clawfleet agent check
  clawfleet agent check --json | jq .primary
  OPENCLAW_STATE_DIR=/srv/openclaw clawfleet agent check --verbose`,
  options: {
    json: { type: "boolean" },
    verbose: { type: "boolean" },
    "node-id": { type: "string" },
  },
  async run(values) {
    const node = nodeInfo(values["node-id"]);
    const run = await runChecks(ALL_CHECKS, { world: discoverOpenClaw(process.env), fingerprint: localFingerprint, runner: systemRunner, platform: process.platform });
    process.stdout.write(values.json ? JSON.stringify(checkDocument(node, run), null, 2) + "\n" : checkText(node, run, painter(process.stdout), values.verbose === true));
    return EXIT_STATUS[run.verdict];
  },
});
