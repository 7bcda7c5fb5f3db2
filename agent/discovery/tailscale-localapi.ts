// The local Tailscale daemon as its own CLI sees it: where its LocalAPI is
// (tailscale/tailscale paths/paths.go, safesocket/safesocket_darwin.go,
// client/local/local.go), and its two read-only answers we need,
// ipnstate.Status and ipn.ServeConfig. Nothing here writes to tailscaled.
import { accessSync, constants, existsSync, readFileSync, readlinkSync } from "node:fs";
import { delimiter, join } from "node:path";
// undici is loaded only when Tailscale is present: it costs ~0.1 s of start-up
// that every `agent check` on a host without Tailscale would pay for nothing.
import type { Agent } from "undici";
import type { Env } from "./openclaw-config.ts";
import type { CommandRunner } from "../platform/command-runner.ts";
import { checkServeConfig, checkStatus } from "./tailscale-json.ts";

/** client/tailscale/apitype.LocalAPIHost: LocalAPI refuses (403) any other Host on its unix socket. */
export const LOCALAPI_HOST = "local-tailscaled.sock";

/** Where the sandboxed macOS variants publish their port and token (safesocket_darwin.go). */
export const MAC_SHARED_DIR = "/Library/Tailscale";
export const MAC_APP = "/Applications/Tailscale.app";

/**
 * paths.DefaultTailscaledSocket. On macOS tailscaled (including Homebrew's
 * service, which runs `tailscaled` without --socket: homebrew-core
 * Formula/t/tailscale.rb) uses /var/run/tailscaled.socket; there is no
 * Homebrew-prefixed socket.
 */
export function defaultSocketPath(platform: NodeJS.Platform): string {
  return platform === "darwin" ? "/var/run/tailscaled.socket" : "/var/run/tailscale/tailscaled.sock";
}

export type LocalApiEndpoint =
  | { kind: "unix"; socketPath: string; via: string }
  /** macOS GUI variants: 127.0.0.1:port with HTTP Basic auth; the password is a secret and never leaves this module's callers. */
  | { kind: "tcp"; port: number; password: string; via: string };

/** ipnstate.PeerStatus, the fields we read. */
export interface PeerStatus {
  HostName?: string;
  /** FQDN with a trailing dot ("mini-01.tail1234.ts.net."). */
  DNSName?: string;
  TailscaleIPs?: string[] | null;
  Online?: boolean;
  Expired?: boolean;
  /** RFC 3339; absent when the key never expires. */
  KeyExpiry?: string;
}

/** ipnstate.Status, the fields we read (ipn/ipnstate/ipnstate.go). */
export interface IpnStatus {
  Version?: string;
  /** ipn.State: NoState, NeedsLogin, NeedsMachineAuth, Stopped, Starting, Running. */
  BackendState: string;
  HaveNodeKey?: boolean;
  TailscaleIPs?: string[] | null;
  Self?: PeerStatus | null;
  Health?: string[] | null;
  MagicDNSSuffix?: string;
  CurrentTailnet?: { Name?: string; MagicDNSSuffix?: string; MagicDNSEnabled?: boolean } | null;
}

/** ipn.HTTPHandler: exactly one of Path, Proxy, Text, Redirect. */
export interface HttpHandler {
  Path?: string;
  Proxy?: string;
  Text?: string;
  Redirect?: string;
}

export interface WebServerConfig {
  Handlers?: Record<string, HttpHandler | null> | null;
}

export interface TcpPortHandler {
  HTTPS?: boolean;
  HTTP?: boolean;
  TCPForward?: string;
  TerminateTLS?: string;
  /** PROXY protocol version (1 or 2) sent before the forwarded bytes; 0/absent: none. */
  ProxyProtocol?: number;
}

/** ipn.ServiceConfig: one Tailscale Service (`svc:<name>`). */
export interface ServiceConfig {
  TCP?: Record<string, TcpPortHandler | null> | null;
  Web?: Record<string, WebServerConfig | null> | null;
  Tun?: boolean;
}

/** ipn.ServeConfig (ipn/serve.go); map[uint16] keys arrive as strings. */
export interface ServeConfig {
  TCP?: Record<string, TcpPortHandler | null> | null;
  /** "host:port" → handlers by mount point. */
  Web?: Record<string, WebServerConfig | null> | null;
  Services?: Record<string, ServiceConfig | null> | null;
  AllowFunnel?: Record<string, boolean> | null;
  /** IPN bus session id → a whole config, alive while that `tailscale serve` (no --bg) runs. */
  Foreground?: Record<string, ServeConfig | null> | null;
}

export interface TailscaleReading {
  /** What on this host says Tailscale is installed; empty means not at all. */
  installSigns: string[];
  endpoint?: LocalApiEndpoint;
  status?: IpnStatus;
  statusError?: string;
  /** null: tailscaled has no Serve config at all (it answers `null`). */
  serveConfig?: ServeConfig | null;
  serveError?: string;
}

export interface ReadOptions {
  env: Env;
  platform: NodeJS.Platform;
  runner: CommandRunner;
  signal: AbortSignal;
  timeoutMs?: number;
  /** Overridable so tests can stand in for /Library/Tailscale and the app bundle. */
  macSharedDir?: string;
  macApp?: string;
}

/** Asks tailscaled for its status and Serve config, the way `tailscale status` connects. */
export async function readTailscale(options: ReadOptions): Promise<TailscaleReading> {
  const override = options.env.CLAWFLEET_TAILSCALE_SOCKET?.trim();
  const socketPath = override || defaultSocketPath(options.platform);
  const installSigns = tailscaleInstallSigns(options, socketPath);
  const endpoint = override
    ? { kind: "unix" as const, socketPath, via: "CLAWFLEET_TAILSCALE_SOCKET" }
    : ((options.platform === "darwin" ? await macLocalApi(options) : undefined) ?? { kind: "unix" as const, socketPath, via: "default socket" });
  if (installSigns.length === 0 && endpoint.kind === "unix") return { installSigns };

  const undici = await import("undici");
  const dispatcher = endpoint.kind === "unix" ? new undici.Agent({ connect: { socketPath: endpoint.socketPath } }) : new undici.Agent();
  try {
    // Peers are not needed and are the bulk of the answer on a large tailnet.
    const [status, serve] = await Promise.all([
      localApiGet(endpoint, dispatcher, "/localapi/v0/status?peers=false", options),
      localApiGet(endpoint, dispatcher, "/localapi/v0/serve-config", options),
    ]);
    const reading: TailscaleReading = { installSigns, endpoint };
    const checkedStatus = "error" in status ? status : checkStatus(status.value);
    if ("error" in checkedStatus) reading.statusError = checkedStatus.error;
    else reading.status = checkedStatus.status;
    const checkedServe = "error" in serve ? serve : checkServeConfig(serve.value);
    if ("error" in checkedServe) reading.serveError = checkedServe.error;
    else reading.serveConfig = checkedServe.config;
    return reading;
  } finally {
    await dispatcher.destroy().catch(() => undefined);
  }
}

type Got = { value: unknown } | { error: string; httpStatus?: number };

/** The answer as untyped JSON: checkStatus / checkServeConfig give it its type. */
async function localApiGet(endpoint: LocalApiEndpoint, dispatcher: Agent, path: string, options: ReadOptions): Promise<Got> {
  // Over TCP the Host is 127.0.0.1:port, which LocalAPI accepts only with the
  // Basic-auth password (localapi.go validHost); the user name is empty.
  const url = endpoint.kind === "unix" ? `http://${LOCALAPI_HOST}${path}` : `http://127.0.0.1:${endpoint.port}${path}`;
  const headers: Record<string, string> = endpoint.kind === "tcp" ? { authorization: `Basic ${Buffer.from(`:${endpoint.password}`).toString("base64")}` } : {};
  try {
    const { request } = await import("undici");
    const response = await request(url, {
      dispatcher,
      headers,
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs ?? 1500)]),
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) return { error: `HTTP ${response.statusCode}: ${text.trim().slice(0, 200)}`, httpStatus: response.statusCode };
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return { error: e.code ?? e.name ?? e.message };
  }
}

/**
 * Installed at all? A socket where tailscaled puts it, `tailscale` on PATH, or
 * the macOS app and its shared directory. A Linux tailscaled stopped by
 * systemd loses its socket (RuntimeDirectory), but the CLI stays on PATH.
 */
export function tailscaleInstallSigns(options: Pick<ReadOptions, "env" | "platform" | "macSharedDir" | "macApp">, socketPath: string): string[] {
  const signs: string[] = [];
  if (existsSync(socketPath)) signs.push(`socket ${socketPath}`);
  const binary = onPath("tailscale", options.env.PATH);
  if (binary) signs.push(`binary ${binary}`);
  if (options.platform === "darwin") {
    for (const path of [options.macApp ?? MAC_APP, options.macSharedDir ?? MAC_SHARED_DIR]) if (existsSync(path)) signs.push(`app ${path}`);
  }
  return signs;
}

function onPath(name: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/**
 * The macOS GUI variants serve LocalAPI on 127.0.0.1 with a token, found as
 * cmd/tailscale finds it (safesocket_darwin.go portAndTokenFromSameUserProof):
 * first the App Store extension's open `sameuserproof-<port>-<token>` file
 * (via lsof), then the standalone variant's `ipnport` symlink and
 * `sameuserproof-<port>` file; otherwise the unix socket.
 */
async function macLocalApi(options: ReadOptions): Promise<LocalApiEndpoint | undefined> {
  const uid = process.getuid?.() ?? 0;
  const lsof = await options.runner.run("lsof", ["-n", "-a", `-u${uid}`, "-c", "IPNExtension", "-F"], { timeoutMs: 1000, signal: options.signal });
  if (lsof.exitCode === 0) {
    const fromLsof = parseSameUserProofLsof(lsof.stdout);
    if (fromLsof) return { kind: "tcp", ...fromLsof, via: "App Store sameuserproof (lsof IPNExtension)" };
  }
  const dir = options.macSharedDir ?? MAC_SHARED_DIR;
  try {
    const portText = readlinkSync(join(dir, "ipnport"));
    const port = Number(portText);
    const password = readFileSync(join(dir, `sameuserproof-${portText}`), "utf8").trim();
    if (Number.isInteger(port) && port > 0 && password) return { kind: "tcp", port, password, via: `${join(dir, "ipnport")}` };
  } catch {
    // Not the standalone variant, or not readable by this user.
  }
  return undefined;
}

/** lsof -F lines naming `.tailscale.ipn.macos/sameuserproof-<port>-<token>` (readMacosSameUserProof). */
export function parseSameUserProofLsof(stdout: string): { port: number; password: string } | undefined {
  const marker = ".tailscale.ipn.macos/sameuserproof-";
  for (const line of stdout.split("\n")) {
    const at = line.indexOf(marker);
    if (at < 0) continue;
    const rest = line.slice(at + marker.length);
    const dash = rest.indexOf("-");
    if (dash < 0) continue;
    const port = Number(rest.slice(0, dash));
    const password = rest.slice(dash + 1).trim();
    if (Number.isInteger(port) && port > 0 && password) return { port, password };
  }
  return undefined;
}

/**
 * An expired node key shows as NeedsLogin; the tell is Self.KeyExpiry in the
 * past (ipnlocal sets it from the netmap), Self.Expired, or a health message
 * naming key expiry.
 */
export function keyExpired(status: IpnStatus, nowMs: number = Date.now()): boolean {
  const self = status.Self;
  if (self?.Expired) return true;
  const expiry = self?.KeyExpiry ? Date.parse(self.KeyExpiry) : Number.NaN;
  if (Number.isFinite(expiry) && expiry <= nowMs) return true;
  return (status.Health ?? []).some(namesKeyExpiry);
}

/**
 * "key" before an "expir…" word, or "expired" before "key", on one line. Not
 * /\bkey\b.*\bexpir/: that rescans the rest of the line from every "key",
 * quadratic on a long message repeating it.
 */
function namesKeyExpiry(text: string): boolean {
  return text.split(/[\n\r\u2028\u2029]/).some((line) => {
    const key = /\bkey\b/i.exec(line);
    if (key && /\bexpir/i.test(line.slice(key.index + key[0].length))) return true;
    const expired = /\bexpired\b/i.exec(line);
    return expired !== null && /\bkey\b/i.test(line.slice(expired.index + expired[0].length));
  });
}

/** Self.DNSName without its trailing dot, as URLs and resolvers want it. */
export function selfDnsName(status: IpnStatus): string | undefined {
  const name = status.Self?.DNSName?.replace(/\.$/, "");
  return name ? name : undefined;
}
