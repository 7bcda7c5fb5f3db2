// The agent's systemd *user* unit: the manager the gateway's own unit runs
// under (OpenClaw installs `openclaw-gateway.service` in ~/.config/systemd/user),
// so both processes get the same user, HOME and session environment.
import type { AgentServiceSpec } from "./agent-service-spec.ts";

/**
 * One ExecStart= word (systemd.service(5) "Command lines"): `%` is a specifier
 * and `$` an environment expansion, so both are doubled; words with whitespace,
 * quotes, backslashes or `;` are double-quoted with C escapes.
 */
export function execWord(word: string): string {
  const escaped = word.replaceAll("%", "%%").replaceAll("$", "$$$$");
  if (escaped !== "" && !/[\s"'\\;]/.test(escaped)) return escaped;
  return `"${cEscape(escaped)}"`;
}

/** One `Environment="NAME=value"` (systemd.exec(5)): quoted, C-escaped, `%` doubled; `$` is literal there. */
export function environmentLine(name: string, value: string): string {
  return `Environment="${cEscape(`${name}=${value}`.replaceAll("%", "%%"))}"`;
}

/** `EnvironmentFile=-path`: `-` because the agent must start even when the gateway's file is gone. */
export function environmentFileLine(path: string): string {
  return `EnvironmentFile=-${path.replaceAll("%", "%%")}`;
}

function cEscape(text: string): string {
  return text.replace(/[\\"\n\t\r]|[\u0000-\u001f\u007f]/g, (ch) => {
    switch (ch) {
      case "\\": return "\\\\";
      case '"': return '\\"';
      case "\n": return "\\n";
      case "\t": return "\\t";
      case "\r": return "\\r";
      default: return `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
    }
  });
}

export function systemdAgentUnit(spec: AgentServiceSpec): string {
  const lines = [
    ...spec.comment.map((line) => `# ${line}`.trimEnd()),
    "",
    "[Unit]",
    "Description=clawfleet agent: triage of this host's OpenClaw gateway, reported to the fleet collector",
    // Keep retrying forever: the agent is what reports a broken host.
    "StartLimitIntervalSec=0",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${spec.programArguments.map(execWord).join(" ")}`,
    ...Object.entries(spec.environment).map(([name, value]) => environmentLine(name, value)),
    // Env files after Environment=, as systemd applies them (the file wins).
    ...spec.environmentFiles.map(environmentFileLine),
    "Restart=always",
    "RestartSec=5",
    // Exit status 2 is a usage error (a bad flag in this file): restarting cannot fix it.
    "RestartPreventExitStatus=2",
    "TimeoutStopSec=15",
    // The state dir holds the fleet key.
    "UMask=0077",
    "NoNewPrivileges=yes",
    "",
    "[Install]",
    "WantedBy=default.target",
    "",
  ];
  return lines.join("\n");
}
