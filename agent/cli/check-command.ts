import { userInfo } from "node:os";
import { defineCommand, UsageError } from "../../shared/cli.ts";
import { EXIT_STATUS } from "../../shared/finding.ts";
import { localFingerprint } from "../../shared/fingerprint.ts";
import { painter } from "../../shared/style.ts";
import { ALL_CHECKS } from "../checks/index.ts";
import { runChecks } from "../checks/run-checks.ts";
import { nodeInfo } from "../discovery/node-identity.ts";
import { discoverOpenClaw } from "../discovery/openclaw-world.ts";
import { checkDocument } from "../report/check-json.ts";
import { checkText } from "../report/check-text.ts";
import { checkTicket } from "../report/check-ticket.ts";
import { AGENT_VERSION } from "../../shared/version.ts";
import { systemRunner } from "../platform/command-runner.ts";

export const checkCommand = defineCommand({
  path: ["agent", "check"],
  usageExitStatus: 3,
  help: `Usage: clawfleet agent check [--json | --ticket] [--verbose] [--node-id ID]

Runs the gateway, session and other checks once against the local OpenClaw
gateway (found as the openclaw CLI finds it: OPENCLAW_STATE_DIR,
OPENCLAW_CONFIG_PATH, OPENCLAW_GATEWAY_PORT, OPENCLAW_GATEWAY_TOKEN, HOME) and
prints the verdict, the root cause and the next action. Secrets are shown only
as fingerprints (sha256:… of the value).

Options:
  --json          print the clawfleet.check.v1 document instead of text
  --ticket        print a Markdown block to paste into a change ticket: the
                  frozen state (time, node, user, versions, binary, config and
                  service paths), every finding with its evidence, the gateway's
                  last fatal lines, the names (never the values) of the
                  gateway's variables, credential fingerprints and a change
                  plan (one credential at a time, rotation window, blast
                  radius, rollback point); not with --json
  --verbose       show the evidence behind every finding
  --node-id ID    name this host in the output (default: short hostname)
  -h, --help      show this help

Exit status (Nagios convention): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN or usage error.

Examples:
  clawfleet agent check
  clawfleet agent check --json | jq .primary
  clawfleet agent check --ticket > ticket.md
  OPENCLAW_STATE_DIR=/srv/openclaw clawfleet agent check --verbose`,
  options: {
    json: { type: "boolean" },
    verbose: { type: "boolean" },
    ticket: { type: "boolean" },
    "node-id": { type: "string" },
  },
  async run(values) {
    if (values.json && values.ticket) throw new UsageError("--json and --ticket are two outputs: choose one");
    const node = nodeInfo(values["node-id"]);
    const world = discoverOpenClaw(process.env);
    const run = await runChecks(ALL_CHECKS, { world, fingerprint: localFingerprint, runner: systemRunner, platform: process.platform });
    if (values.ticket) process.stdout.write(checkTicket({ node, run, world, user: agentUser(), agentVersion: AGENT_VERSION, fingerprint: localFingerprint }));
    else process.stdout.write(values.json ? JSON.stringify(checkDocument(node, run), null, 2) + "\n" : checkText(node, run, painter(process.stdout), values.verbose === true));
    return EXIT_STATUS[run.verdict];
  },
});

/** Who ran the agent; a uid without an account entry (a container) is still named by its number. */
function agentUser(): { name: string; uid?: number } {
  const uid = process.getuid?.();
  try {
    return { name: userInfo().username, ...(uid !== undefined ? { uid } : {}) };
  } catch {
    return { name: process.env.USER ?? process.env.LOGNAME ?? "unknown", ...(uid !== undefined ? { uid } : {}) };
  }
}
