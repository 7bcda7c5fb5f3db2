// A stand-in for tailscaled's LocalAPI, speaking its protocol: HTTP on a unix
// socket (Linux, tailscaled-on-macOS) or on 127.0.0.1 with a Basic-auth
// password (the macOS GUI variants), the Host/Origin/Referer rule of
// ipn/localapi/localapi.go ServeHTTP, and the answers of /localapi/v0/status
// and /localapi/v0/serve-config from test/fixtures/tailscale (see its README).
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

const FIXTURES = new URL("../fixtures/tailscale/", import.meta.url);
const LOCALAPI_HOST = "local-tailscaled.sock";
const VERSION = "1.92.3-t1a2b3c4d5-g9f8e7d6c5";
const DAY_MS = 86_400_000;

export function statusFixture(name: "running" | "needs-login" | "key-expired" | "stopped" | "nostate"): Record<string, any> {
  return JSON.parse(readFileSync(new URL(`status-${name}.json`, FIXTURES), "utf8"));
}

export interface ServeRouteVars {
  host: string;
  httpsPort?: number;
  targetPort: number;
}

export type ServeConfigFixture = "background" | "foreground" | "services" | "other-app" | "tcp-forward" | "tls-terminated-tcp" | "service-tcp";

export function serveConfigFixture(name: ServeConfigFixture, vars: ServeRouteVars): Record<string, any> {
  const text = readFileSync(new URL(`serve-config-${name}.json`, FIXTURES), "utf8")
    .replaceAll("${HOST}", vars.host)
    .replaceAll("${HTTPS_PORT}", String(vars.httpsPort ?? 443))
    .replaceAll("${TARGET_PORT}", String(vars.targetPort));
  return JSON.parse(text);
}

export interface LocalApiRequest {
  method: string;
  path: string;
  host: string;
  status: number;
}

export interface FakeLocalApi {
  /** The unix socket (empty in TCP mode). */
  socketPath: string;
  /** TCP mode: the 127.0.0.1 port. */
  port?: number;
  requests: LocalApiRequest[];
  setStatus(status: Record<string, any>): void;
  setServeConfig(config: Record<string, any> | null): void;
  /** Logged in; Self.DNSName as given (with its trailing dot). */
  running(options?: { dnsName?: string; ips?: string[] }): void;
  needsLogin(): void;
  keyExpired(): void;
  stopped(): void;
  noState(): void;
  /** No Serve config at all: tailscaled answers `null`. */
  serveMissing(): void;
  serveBackground(vars: ServeRouteVars): void;
  serveForeground(vars: ServeRouteVars): void;
  serveServices(vars: ServeRouteVars): void;
  close(): Promise<void>;
}

export interface FakeLocalApiOptions {
  /** Serve on 127.0.0.1 and require this Basic-auth password, like the macOS GUI variants. */
  password?: string;
}

export async function startFakeLocalApi(options: FakeLocalApiOptions = {}): Promise<FakeLocalApi> {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-tsapi-"));
  let status: Record<string, any> = statusFixture("running");
  let serveConfig: Record<string, any> | null = null;
  const requests: LocalApiRequest[] = [];

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const host = req.headers.host ?? "";
    const path = (req.url ?? "/").split("?")[0]!;
    const respond = (code: number, body: string, type = "text/plain; charset=utf-8", extra: Record<string, string> = {}) => {
      requests.push({ method: req.method ?? "", path: req.url ?? "", host, status: code });
      res.writeHead(code, { "Content-Type": type, "X-Content-Type-Options": "nosniff", ...extra });
      res.end(body);
    };
    // localapi.go ServeHTTP: a browser-shaped request (Referer, Origin) or a
    // foreign Host is refused before anything else (DNS rebinding).
    if (req.headers.referer || req.headers.origin || !validHost(host, options.password !== undefined)) {
      return respond(403, "invalid localapi request\n");
    }
    const securityHeaders = { "Tailscale-Version": VERSION, "Tailscale-Cap": "130" };
    if (options.password !== undefined) {
      const auth = req.headers.authorization ?? "";
      if (!auth.startsWith("Basic ")) return respond(401, "auth required\n", undefined, securityHeaders);
      const decoded = Buffer.from(auth.slice(6), "base64").toString("utf8");
      if (decoded.slice(decoded.indexOf(":") + 1) !== options.password) return respond(403, "bad password\n", undefined, securityHeaders);
    }
    if (path === "/localapi/v0/status") {
      const peers = new URL(req.url ?? "/", "http://x").searchParams.get("peers");
      const body = peers === "false" ? status : { ...status, Peer: status.Peer ?? {} };
      return respond(200, JSON.stringify(body, null, "\t") + "\n", "application/json", securityHeaders);
    }
    if (path === "/localapi/v0/serve-config") {
      if (req.method !== "GET") return respond(403, "serve config denied\n", undefined, securityHeaders);
      const body = JSON.stringify(serveConfig);
      const etag = createHash("sha256").update(body).digest("hex");
      return respond(200, body, "application/json", { ...securityHeaders, Etag: etag });
    }
    return respond(404, "404 page not found\n", undefined, securityHeaders);
  };

  const server: Server = createServer(handler);
  const socketPath = options.password === undefined ? join(dir, "tailscaled.sock") : "";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if (socketPath) server.listen(socketPath, resolve);
    else server.listen(0, "127.0.0.1", resolve);
  });
  const port = socketPath ? undefined : (server.address() as { port: number }).port;

  const withRunningSelf = (fixture: Record<string, any>, dnsName?: string, ips?: string[]) => {
    if (dnsName !== undefined) {
      fixture.Self.DNSName = dnsName;
      fixture.CertDomains = [dnsName.replace(/\.$/, "")];
    }
    if (ips) fixture.TailscaleIPs = fixture.Self.TailscaleIPs = ips;
    return fixture;
  };

  return {
    socketPath,
    port,
    requests,
    setStatus(next) {
      status = next;
    },
    setServeConfig(next) {
      serveConfig = next;
    },
    running(opts = {}) {
      const fixture = withRunningSelf(statusFixture("running"), opts.dnsName, opts.ips);
      fixture.Self.KeyExpiry = new Date(Date.now() + 90 * DAY_MS).toISOString().replace(/\.\d+Z$/, "Z");
      status = fixture;
    },
    needsLogin() {
      status = statusFixture("needs-login");
    },
    keyExpired() {
      const fixture = statusFixture("key-expired");
      fixture.Self.KeyExpiry = new Date(Date.now() - DAY_MS).toISOString().replace(/\.\d+Z$/, "Z");
      status = fixture;
    },
    stopped() {
      status = statusFixture("stopped");
    },
    noState() {
      status = statusFixture("nostate");
    },
    serveMissing() {
      serveConfig = null;
    },
    serveBackground(vars) {
      serveConfig = serveConfigFixture("background", vars);
    },
    serveForeground(vars) {
      serveConfig = serveConfigFixture("foreground", vars);
    },
    serveServices(vars) {
      serveConfig = serveConfigFixture("services", vars);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** localapi.go validHost: "" or local-tailscaled.sock; loopback host:port only with the password. */
function validHost(host: string, passwordMode: boolean): boolean {
  if (host === "" || host === LOCALAPI_HOST) return true;
  if (!passwordMode) return false;
  const match = /^(?:\[([^\]]+)\]|([^:]+)):\d+$/.exec(host);
  if (!match) return false;
  const name = match[1] ?? match[2]!;
  return name === "localhost" || name === "::1" || /^127(\.\d{1,3}){3}$/.test(name);
}
