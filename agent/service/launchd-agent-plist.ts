// The agent's LaunchAgent: a per-user job in gui/<uid>, the domain the
// gateway's own LaunchAgent lives in, so the agent sees the same user, HOME,
// keychain session and Tailscale LocalAPI socket as the gateway.
import { build } from "plist";
import { AGENT_LAUNCHD_LABEL, type AgentServiceSpec } from "./agent-service-spec.ts";

/** XML 1.0 cannot carry these at all, escaped or not. */
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

export function launchdAgentPlist(spec: AgentServiceSpec, label = AGENT_LAUNCHD_LABEL): string {
  for (const [name, value] of Object.entries(spec.environment)) {
    if (XML_INVALID.test(value)) throw new Error(`${name} holds a control character a property list cannot carry`);
  }
  for (const arg of spec.programArguments) if (XML_INVALID.test(arg)) throw new Error("an argument holds a control character a property list cannot carry");
  const job: Record<string, unknown> = {
    Label: label,
    ProgramArguments: spec.programArguments,
    EnvironmentVariables: spec.environment,
    RunAtLoad: true,
    // launchd restarts it whenever it exits; `launchctl bootout` is the way to stop it.
    KeepAlive: true,
    // At most one restart every 10 s when it keeps failing (a bad flag exits 2 at once).
    ThrottleInterval: 10,
    ExitTimeOut: 15,
    // 077: the state dir holds the fleet key.
    Umask: 63,
    StandardInPath: "/dev/null",
    ...(spec.logPath ? { StandardOutPath: spec.logPath, StandardErrorPath: spec.logPath } : {}),
  };
  const xml = build(job as Parameters<typeof build>[0]);
  // A comment goes after the DOCTYPE; "--" may not appear inside one.
  const comment = spec.comment.map((line) => `  ${line.replaceAll("--", "- -")}`.trimEnd()).join("\n");
  const [declaration, doctype, ...rest] = xml.split("\n");
  return [declaration, doctype, `<!--\n${comment}\n-->`, ...rest].join("\n") + (xml.endsWith("\n") ? "" : "\n");
}
