// The one table of layers, reason codes and actions. Checks refer to codes; the
// action text, severity and dependencies live here and nowhere else (the alert
// rules and dashboards are generated from this table too).

/** Layers in dependency order: a failure in an earlier layer explains later ones. */
export const LAYERS = ["gateway", "session", "provider", "tunnel", "drift", "power", "baseline", "agent", "fleet"] as const;
export type Layer = (typeof LAYERS)[number];

export const STATUSES = ["ok", "warn", "fail", "skip", "error"] as const;
export type Status = (typeof STATUSES)[number];

/** How bad a status is, for picking the worst of several. */
export const STATUS_RANK: Record<Status, number> = { ok: 0, skip: 0, warn: 1, error: 1, fail: 2 };

export interface CodeSpec {
  layer: Layer;
  /** The status a finding with this code has unless the check says otherwise. */
  severity: "warn" | "fail";
  title: string;
  /**
   * What to do next. `{name}` placeholders are filled from the finding's
   * evidence; a missing value leaves the generic wording in place.
   */
  action: string;
  /**
   * Codes (or whole layers, as `layer:NAME`) this one is a consequence of: while
   * any of them is failing, this finding is shown as depending on it and is
   * never the primary.
   */
  dependsOn?: readonly string[];
}

const GATEWAY_DOWN = ["layer:gateway"] as const;
/**
 * Why a gateway cannot start (a fatal line in its log, or a precondition read
 * from disk): while one holds, a down or restarting gateway is its consequence
 * and "start it" is never the advice.
 */
// Order matters: a down gateway names the first present as its cause, so the
// evidence that says most (the gateway's own refusal) comes before inferences.
export const STARTUP_BLOCKERS = [
  "gateway_locked",
  "port_in_use",
  "service_program_missing",
  "openclaw_downgraded",
  "config_refused",
  "tailscale_bind_conflict",
  "bind_without_auth",
  "secret_unresolved",
  "auth_unconfigured",
] as const;
const TAILSCALE_DOWN = ["tailscale_not_running", "tailscale_needs_login", "tailscale_key_expired"] as const;

export const CODES = {
  // gateway
  service_not_loaded: {
    layer: "gateway", severity: "fail", title: "Gateway service is not loaded",
    action: "Load the service: macOS `launchctl bootstrap gui/$(id -u) {plistPath}`, Linux `systemctl --user enable --now {unit}` (or `openclaw gateway install`), then re-run `clawfleet agent check`.",
    // Loading the service starts it: pointless while something stops it from starting.
    dependsOn: STARTUP_BLOCKERS,
  },
  not_running: {
    layer: "gateway", severity: "fail", title: "No gateway process is running",
    action: "Start the gateway (`openclaw gateway start` for the service, or `openclaw gateway run`) and read the last lines of its log for why it stopped.",
    dependsOn: [...STARTUP_BLOCKERS, "crash_loop"],
  },
  config_refused: {
    layer: "gateway", severity: "fail", title: "Gateway refuses to start on its config",
    action: "The gateway will not start while {configPath} is invalid: fix what `openclaw config validate` names, then start it (`openclaw gateway start`).",
    // Keys a newer OpenClaw wrote are unknown to an older schema.
    dependsOn: ["openclaw_downgraded"],
  },
  crash_loop: {
    layer: "gateway", severity: "fail", title: "Gateway keeps dying and being restarted",
    action: "The gateway restarts in a loop ({restartSignal}): read why it dies (last fatal line: {lastFatalLine}, in {logSource}), fix that, then `openclaw gateway restart`; if two gateways serve one state dir, stop the extra one (`openclaw gateway status --deep`).",
    dependsOn: STARTUP_BLOCKERS,
  },
  not_listening: {
    layer: "gateway", severity: "fail", title: "Gateway process runs but nothing listens on its port",
    action: "A gateway process (pid {pid}) is running but 127.0.0.1:{port} refuses connections: make gateway.port / OPENCLAW_GATEWAY_PORT agree for the CLI and the service, and check the gateway log for a bind error.",
    // A process that cannot finish starting (a refusal on its way, a supervisor's retry) is that cause's consequence.
    dependsOn: [...STARTUP_BLOCKERS, "crash_loop"],
  },
  not_ready: {
    layer: "gateway", severity: "fail", title: "Gateway answers but is not ready",
    action: "GET http://127.0.0.1:{port}/readyz reports {failing}: wait for startup to finish; if it persists, restart the gateway and read its log.",
    // What answers on the port may not be a gateway at all.
    dependsOn: ["port_in_use"],
  },
  gateway_locked: {
    layer: "gateway", severity: "fail", title: "Another gateway holds this state dir",
    action: "The gateway refused to start because another OpenClaw process holds the lock on {stateDir} ({line}): stop the duplicate (`openclaw gateway status --deep` lists them) so one service owns the state dir.",
  },
  port_in_use: {
    layer: "gateway", severity: "fail", title: "Gateway port held by another process",
    action: "Port {port} is held by pid {pid} ({executable}), not by this gateway: stop that process, or move the gateway to a free port (gateway.port, or OPENCLAW_GATEWAY_PORT in both the shell and the service), then start the gateway.",
  },
  service_program_missing: {
    layer: "gateway", severity: "fail", title: "The service's program or its Node is missing",
    action: "The service runs {program}, which does not exist (an update or a version manager such as nvm/fnm/volta moved it): reinstall the service from the install you use (`openclaw gateway install --force`), then start it.",
  },
  openclaw_downgraded: {
    layer: "gateway", severity: "fail", title: "Config or state written by a newer OpenClaw than the service runs",
    action: "{what} was last written by OpenClaw {writerVersion}, newer than the {serviceVersion} the service runs: reinstall the service from the newer install (`openclaw gateway install --force`), or stop it and restore the pre-update backup (`openclaw backup create` made it).",
  },
  tailscale_bind_conflict: {
    layer: "gateway", severity: "fail", title: "Tailscale Serve/Funnel needs a loopback bind",
    action: "gateway.tailscale.mode is {tailscaleMode} but gateway.bind is {bind}, which OpenClaw refuses: `openclaw config set gateway.bind loopback` (Tailscale publishes the gateway), then start the gateway.",
  },
  bind_without_auth: {
    layer: "gateway", severity: "fail", title: "Gateway refuses a non-loopback bind without auth",
    action: "gateway.bind is {bind} but no token or password reaches the gateway, so it refuses to start: bind to loopback and publish with Tailscale Serve, or give the service a token (gateway.auth.token in {configPath}, or OPENCLAW_GATEWAY_TOKEN in {serviceEnvPath}).",
  },
  secret_unresolved: {
    layer: "gateway", severity: "fail", title: "A secret the gateway needs does not resolve in the service's environment",
    action: "{configKey} is {reference}, which the gateway's environment ({envSource}) does not set, and the gateway refuses to start without it: add {variable} to {serviceEnvPath} (or the state dir's .env), then start the gateway.",
  },
  auth_unconfigured: {
    layer: "gateway", severity: "fail", title: "Gateway auth has no usable secret the service can reach",
    action: "gateway.auth.mode is {authMode} but no usable {secret} reaches the gateway ({why}): set gateway.auth.{secret} in {configPath} or put the real {variable} in the service environment ({serviceEnvPath}), then restart the gateway so clients and gateway share it.",
  },
  secret_placeholder: {
    layer: "drift", severity: "fail", title: "A placeholder stands where a secret belongs",
    action: "{variable} in {where} holds the placeholder {placeholder}, a display marker OpenClaw treats as no value: put the real secret there, then restart the gateway.",
  },
  // session
  token_missing: {
    layer: "session", severity: "fail", title: "No gateway token for clients",
    action: "Set the client token: gateway.auth.token in {configPath} or OPENCLAW_GATEWAY_TOKEN in both the shell and the service environment, to the token the gateway loaded.",
    dependsOn: GATEWAY_DOWN,
  },
  token_mismatch: {
    layer: "session", severity: "fail", title: "Gateway rejects the client's token",
    action: "The token clients use ({fingerprint}, from {source}) is not the one the gateway loaded: copy the gateway's token into the client config/env, or rotate it in both places and restart the gateway (`openclaw gateway restart`).",
    // With no token it can reach, OpenClaw 2026.9.6 starts on a random runtime token no client knows.
    dependsOn: [...GATEWAY_DOWN, "auth_unconfigured", "secret_placeholder"],
  },
  token_empty: {
    layer: "session", severity: "fail", title: "A token source is set but empty",
    action: "{source} is set to an empty value, which hides the real token: remove it or set it to the gateway's token.",
    dependsOn: GATEWAY_DOWN,
  },
  device_identity_required: {
    layer: "session", severity: "fail", title: "Gateway requires a device identity",
    action: "The gateway got no usable token and asks for a paired device: configure the gateway token for this client, or approve the device with `openclaw devices list` / `openclaw devices approve`.",
    dependsOn: GATEWAY_DOWN,
  },
  rate_limited: {
    layer: "session", severity: "warn", title: "Gateway is throttling failed logins",
    action: "Too many failed authentication attempts: stop clients that retry with a bad token, wait 5 minutes, then re-run `clawfleet agent check`.",
    dependsOn: GATEWAY_DOWN,
  },
  // provider
  api_key_missing: {
    layer: "provider", severity: "fail", title: "No credential for a model provider",
    action: "Agent {agent} uses provider {provider} but neither its auth store nor the gateway's environment holds a credential: add one scoped to that agent (`openclaw models auth paste-api-key --provider {provider} --agent {agent}`, key on stdin) or put {envVar} in the service environment, then restart the gateway.",
  },
  credential_expired: {
    layer: "provider", severity: "fail", title: "Provider credential expired",
    action: "The {provider} credential of agent {agent} expired at {expiresAt}: re-authenticate (`openclaw models auth login --agent {agent} --provider {provider}` for OAuth, `openclaw models auth paste-token --provider {provider} --agent {agent}` for a token).",
  },
  auth_store_unreadable: {
    layer: "provider", severity: "fail", title: "Credential store cannot be read",
    action: "{path} cannot be read by the user the gateway runs as: fix its owner/permissions (owner only, mode 600) or restore it from backup.",
  },
  // tunnel
  tailscale_not_running: {
    layer: "tunnel", severity: "fail", title: "Tailscale is not running",
    action: "Start Tailscale (macOS: open the Tailscale app; Linux: `sudo systemctl start tailscaled`), then `tailscale status`.",
    dependsOn: GATEWAY_DOWN,
  },
  tailscale_needs_login: {
    layer: "tunnel", severity: "fail", title: "Tailscale is logged out",
    action: "Log this node back in: `tailscale up` (or the app's Log in), and disable key expiry for fleet nodes in the admin console.",
    dependsOn: GATEWAY_DOWN,
  },
  tailscale_key_expired: {
    layer: "tunnel", severity: "fail", title: "Tailscale node key expired",
    action: "Re-authenticate with `tailscale up --force-reauth` and disable key expiry for this fleet node in the admin console.",
    dependsOn: GATEWAY_DOWN,
  },
  serve_not_configured: {
    layer: "tunnel", severity: "fail", title: "Tailscale Serve does not map the gateway port",
    action: "Map the gateway: `tailscale serve --bg {port}` (or set gateway.tailscale.mode to \"serve\" and restart the gateway), then `tailscale serve status`.",
    dependsOn: [...GATEWAY_DOWN, ...TAILSCALE_DOWN],
  },
  magicdns_unresolved: {
    layer: "tunnel", severity: "fail", title: "MagicDNS name does not resolve",
    action: "{dnsName} does not resolve: enable MagicDNS for the tailnet and check `tailscale dns status` on this host.",
    dependsOn: [...GATEWAY_DOWN, ...TAILSCALE_DOWN],
  },
  tailnet_unreachable: {
    layer: "tunnel", severity: "fail", title: "Gateway unreachable over the tailnet",
    action: "Loopback works but {url} does not answer: check `tailscale serve status`, `tailscale ping {dnsName}` from a peer, and ACLs allowing port 443 to this node.",
    dependsOn: [...GATEWAY_DOWN, ...TAILSCALE_DOWN, "serve_not_configured", "magicdns_unresolved"],
  },
  tls_failed: {
    layer: "tunnel", severity: "fail", title: "TLS to the tailnet URL fails",
    action: "The certificate for {url} is not valid ({tlsError}): enable HTTPS certificates for the tailnet and run `tailscale cert {dnsName}`.",
    dependsOn: [...GATEWAY_DOWN, ...TAILSCALE_DOWN],
  },
  headers_stripped: {
    layer: "tunnel", severity: "fail", title: "A proxy strips the Authorization header",
    action: "The token works on loopback but not through {url}: a proxy on the path drops `Authorization`; configure it to forward the header, or use Tailscale Serve directly.",
    dependsOn: [...GATEWAY_DOWN, ...TAILSCALE_DOWN, "tailnet_unreachable", "tls_failed"],
  },
  proxy_attribution_required: {
    layer: "tunnel", severity: "fail", title: "Gateway refuses proxied traffic it cannot attribute",
    action: "A proxy adds forwarding headers the gateway does not trust: add the proxy address to gateway.trustedProxies in {configPath} (or stop the proxy adding X-Forwarded-*), then restart the gateway.",
    dependsOn: [...GATEWAY_DOWN, ...TAILSCALE_DOWN, "tailnet_unreachable", "tls_failed"],
  },
  websocket_blocked: {
    layer: "tunnel", severity: "fail", title: "WebSocket upgrade blocked on the tailnet path",
    action: "HTTP reaches the gateway through {url} but the WebSocket upgrade does not: allow `Upgrade: websocket` on the proxy in front of the gateway.",
    dependsOn: [...GATEWAY_DOWN, ...TAILSCALE_DOWN, "tailnet_unreachable", "tls_failed", "proxy_attribution_required"],
  },
  // drift
  multiple_binaries: {
    layer: "drift", severity: "warn", title: "Several openclaw binaries on PATH",
    action: "`which -a openclaw` lists {paths}: remove the stale install(s) or put the one the service runs ({servicePath}) first on PATH.",
  },
  version_mismatch: {
    layer: "drift", severity: "warn", title: "CLI and service run different OpenClaw versions",
    action: "The shell's openclaw is {cliVersion} but the gateway runs {serviceVersion}: reinstall the service from the CLI you use (`openclaw gateway install --force`) so both run one version.",
  },
  service_env_missing: {
    layer: "drift", severity: "warn", title: "Variable in the shell but not in the service",
    action: "{variable} is set in your shell but not in the gateway service's environment: add it to the service env ({serviceEnvPath}) and restart the gateway.",
  },
  token_drift: {
    layer: "drift", severity: "warn", title: "Token sources disagree",
    action: "Token sources hold different tokens ({sources}): make them one token, then restart the gateway.",
  },
  config_invalid: {
    layer: "drift", severity: "fail", title: "Config on disk does not parse or validate",
    action: "{configPath} is invalid ({error}): fix it (`openclaw config validate`); the running gateway keeps its last good config until then.",
    // Keys a newer OpenClaw wrote are unknown to an older schema; a gateway that is down because of it is the page.
    dependsOn: ["openclaw_downgraded", "config_refused"],
  },
  config_not_applied: {
    layer: "drift", severity: "warn", title: "Config edited but not applied",
    action: "{configPath} changed after the gateway loaded its config: restart the gateway (`openclaw gateway restart`) so it runs what is on disk.",
    dependsOn: ["config_invalid"],
  },
  config_path_mismatch: {
    layer: "drift", severity: "warn", title: "CLI and service read different config files",
    action: "The CLI reads {cliConfigPath} but the service reads {serviceConfigPath}: point OPENCLAW_CONFIG_PATH / OPENCLAW_STATE_DIR at one file for both.",
  },
  credentials_exposed: {
    layer: "drift", severity: "warn", title: "Secret-bearing file readable by others",
    action: "{path} is readable by group/others or owned by another user: `chmod 600 {path}` (directories 700) and `chown` it to the gateway's user.",
  },
  // power
  sleep_enabled: {
    layer: "power", severity: "warn", title: "Host is allowed to sleep",
    action: "Fleet hosts must not sleep: `sudo pmset -a sleep 0 disksleep 0 powernap 0` (Linux: `sudo systemctl mask sleep.target suspend.target`).",
  },
  slept_recently: {
    layer: "power", severity: "warn", title: "Host slept recently",
    action: "The host slept at {sleptAt}: errors around that time were the sleep, not auth; disable sleep (`pmset -g` shows why it slept).",
  },
  thermal_pressure: {
    layer: "power", severity: "warn", title: "Host is under thermal pressure",
    action: "`pmset -g therm` reports {thermal}: give the host airflow and check for runaway processes; throttling slows the gateway.",
  },
  // baseline
  openclaw_vulnerable: {
    layer: "baseline", severity: "fail", title: "OpenClaw version has a known advisory",
    action: "OpenClaw {version} is affected by {advisory}: update to {fixedIn} or later (`npm i -g openclaw@latest`), then `openclaw gateway restart`.",
  },
  node_runtime_unsupported: {
    layer: "baseline", severity: "warn", title: "Gateway runs on an unsupported Node",
    action: "The gateway runs Node {nodeVersion} but OpenClaw needs {required}: install Node 24 and reinstall the service (`openclaw gateway install --force`).",
  },
  gateway_exposed: {
    layer: "baseline", severity: "fail", title: "Gateway bound beyond loopback",
    action: "The gateway listens on {bind}: set gateway.bind to \"loopback\" and publish it with Tailscale Serve instead.",
  },
  auth_disabled: {
    layer: "baseline", severity: "fail", title: "Gateway auth is disabled",
    action: "Turn auth on: `openclaw config set gateway.auth.mode token`, set a strong gateway.auth.token in {configPath}, then `openclaw gateway restart`.",
    dependsOn: ["bind_without_auth"],
  },
  insecure_transport: {
    layer: "baseline", severity: "warn", title: "Control UI offered over plain HTTP off loopback",
    action: "Browsers refuse WebCrypto off HTTPS: serve the Control UI through Tailscale Serve (HTTPS) instead of http://{bind}.",
  },
  secret_in_history: {
    layer: "baseline", severity: "warn", title: "A live secret sits in a shell history file",
    action: "{path} contains a live secret ({fingerprint}): delete those lines and rotate the secret.",
  },
  // agent
  check_timeout: {
    layer: "agent", severity: "warn", title: "A check ran out of time",
    action: "The {check} check did not finish within {deadlineMs} ms: run `clawfleet agent check --verbose` on the host to see where it hangs.",
  },
  check_error: {
    layer: "agent", severity: "warn", title: "A check failed unexpectedly",
    action: "The {check} check crashed ({error}): report it with the output of `clawfleet agent check --verbose`.",
  },
  // collector-side (fleet)
  silent_asleep: {
    layer: "power", severity: "warn", title: "Node is silent and probably asleep",
    action: "The node stopped reporting and its last reports said it may sleep: wake it, then disable sleep (`sudo pmset -a sleep 0`).",
  },
  silent_unreachable: {
    layer: "fleet", severity: "fail", title: "Node is silent and unreachable",
    action: "The node stopped reporting and is not known to sleep: check power and network, then `tailscale ping {node}` from a peer.",
  },
  clock_skew: {
    layer: "fleet", severity: "warn", title: "Node clock is off",
    action: "The node's clock is {skew} off the collector's: enable NTP (`sudo sntp -sS time.apple.com` / `timedatectl set-ntp true`).",
  },
  identity_conflict: {
    layer: "fleet", severity: "fail", title: "Two agents claim one node id",
    action: "Two live agents report as {node}: give each host its own --node-id.",
  },
  token_shared: {
    layer: "fleet", severity: "warn", title: "One secret used on several nodes",
    action: "Fingerprint {fingerprint} is used on {nodes}: give every node and CI runner its own credential.",
  },
  simultaneous_rotation: {
    layer: "fleet", severity: "warn", title: "Gateway token and provider key rotated together",
    action: "Rotate one credential at a time, so a failure points at one change: see `clawfleet collector query tokens` for what changed on {node} and roll back the last one if clients fail.",
  },
} as const satisfies Record<string, CodeSpec>;

export type Code = keyof typeof CODES;

export function isCode(value: string): value is Code {
  return Object.hasOwn(CODES, value);
}

export function isLayer(value: string): value is Layer {
  return (LAYERS as readonly string[]).includes(value);
}

export function isStatus(value: string): value is Status {
  return (STATUSES as readonly string[]).includes(value);
}

export function codeSpec(code: Code): CodeSpec {
  return CODES[code];
}

/**
 * The code's action with `{name}` filled from the evidence it was found with; a
 * value the check did not know reads as plain words ("the config path").
 */
export function renderAction(code: Code, evidence: Readonly<Record<string, string>>): string {
  // "The {provider} credential" with no provider must read "The provider credential", not "The the…".
  return CODES[code].action.replace(/(\b[Tt]he )?\{(\w+)\}/g, (_whole, article: string | undefined, name: string) =>
    evidence[name] !== undefined ? `${article ?? ""}${evidence[name]}` : `${article ?? "the "}${words(name)}`,
  );
}

function words(camel: string): string {
  return camel.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}
