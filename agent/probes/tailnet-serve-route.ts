// Which Tailscale Serve route publishes the gateway, and the tailnet URL it
// gives. Routes live in ServeConfig.Web (background `tailscale serve --bg`),
// in every Foreground.<session>.Web (a `tailscale serve` still running, which
// is how OpenClaw's gateway.tailscale.mode "serve" claims its route) and in
// Services.<svc:name>.Web (Tailscale Services); and, with no Web handler at
// all, as a TCP forward in the TCP map of each of those (`tailscale serve
// --tcp` / `--tls-terminated-tcp`, TCPPortHandler.TCPForward). Shapes:
// ipn/serve.go; what each CLI form writes: cmd/tailscale/cli/serve_v2.go
// applyTCPServe → SetTCPForwarding / SetTCPForwardingForService.
import type { ServeConfig, TcpPortHandler, WebServerConfig } from "../discovery/tailscale-localapi.ts";

/**
 * How tailscaled carries a client to the target: an HTTP reverse proxy behind
 * its TLS (or plain HTTP), or bytes as they come (TCPForward), optionally
 * after terminating TLS itself (TerminateTLS).
 */
export type ServeKind = "https proxy" | "http proxy" | "tcp forward" | "tls-terminated tcp";

export interface ServeHandlerEntry {
  /** Where in the config: "Web", "TCP", "Foreground.<id>.Web", "Services.<svc:name>.TCP"… */
  scope: string;
  /** "host:port" (no implicit 443); for a TCP forward whose host is unknown, just the port. */
  key: string;
  /** Web mount point; "" for a TCP forward, which has none. */
  mount: string;
  /** Proxy target (Web) or TCPForward address, as stored. */
  proxy: string;
  tcp?: TcpPortHandler;
  funnel: boolean;
  kind: ServeKind;
  /** "svc:<name>" for a Tailscale Service's route. */
  service?: string;
}

export interface GatewayRoute extends ServeHandlerEntry {
  /** "gateway-port": proxies to 127.0.0.1:<gateway port>; "managed-listener": OpenClaw's own Serve listener. */
  target: "gateway-port" | "managed-listener";
  targetPort: number;
  /** undefined only for a raw TCP forward on a node whose MagicDNS name is unknown. */
  url?: string;
}

export interface RouteOptions {
  managedByOpenClaw: boolean;
  /** This node's MagicDNS name (no trailing dot): the host of node-level TCP forwards. */
  nodeName?: string;
  /** The tailnet's MagicDNS suffix: a Service's host is <name>.<suffix>. */
  magicDnsSuffix?: string;
  /** gateway.tls.enabled: the gateway speaks TLS itself, so a raw TCP forward carries https. */
  gatewayTls?: boolean;
}

/** Every proxy handler in the config, background first, then foreground sessions, then Services. */
export function serveHandlers(config: ServeConfig | null | undefined): ServeHandlerEntry[] {
  if (!config) return [];
  const out: ServeHandlerEntry[] = [];
  const collect = (scope: string, web: Record<string, WebServerConfig | null> | null | undefined, tcp: Record<string, TcpPortHandler | null> | null | undefined, funnel: Record<string, boolean> | null | undefined, service?: string) => {
    for (const [key, server] of Object.entries(web ?? {})) {
      const port = portOfKey(key);
      const handler = (port !== undefined ? tcp?.[String(port)] : undefined) ?? undefined;
      const kind: ServeKind = handler?.HTTP && !handler.HTTPS ? "http proxy" : "https proxy";
      for (const [mount, h] of Object.entries(server?.Handlers ?? {})) {
        if (!h?.Proxy) continue;
        out.push({ scope: scoped(scope, "Web"), key, mount, proxy: h.Proxy, tcp: handler, funnel: funnel?.[key] === true, kind, ...(service ? { service } : {}) });
      }
    }
  };
  for (const part of serveParts(config)) collect(part.scope, part.web, part.tcp, part.funnel, part.service);
  return out;
}

/**
 * Every TCPForward in the config, with the host a client would dial: the
 * TerminateTLS name when tailscaled terminates TLS (it holds the node's or the
 * Service's FQDN, SetTCPForwarding*), else the node's MagicDNS name, or
 * <name>.<suffix> for a Service. Unix-socket targets are listed too; only
 * loopback ones can be the gateway.
 */
export function tcpForwards(config: ServeConfig | null | undefined, hosts: { nodeName?: string; magicDnsSuffix?: string } = {}): ServeHandlerEntry[] {
  if (!config) return [];
  const out: ServeHandlerEntry[] = [];
  for (const part of serveParts(config)) {
    for (const [portText, handler] of Object.entries(part.tcp ?? {})) {
      if (!handler?.TCPForward) continue;
      const port = validPort(Number(portText));
      if (port === undefined) continue;
      const serviceHost = part.service && hosts.magicDnsSuffix ? `${part.service.slice("svc:".length)}.${hosts.magicDnsSuffix}` : undefined;
      const host = handler.TerminateTLS || (part.service ? serviceHost : hosts.nodeName);
      const key = host ? `${host.includes(":") ? `[${host}]` : host}:${port}` : String(port);
      out.push({
        scope: scoped(part.scope, "TCP"), key, mount: "", proxy: handler.TCPForward, tcp: handler,
        funnel: part.funnel?.[key] === true, kind: handler.TerminateTLS ? "tls-terminated tcp" : "tcp forward",
        ...(part.service ? { service: part.service } : {}),
      });
    }
  }
  return out;
}

interface ServePart {
  /** "" for the top level (so scopes read "Web", "TCP"), else "Foreground.<id>" / "Services.<svc:name>". */
  scope: string;
  web: Record<string, WebServerConfig | null> | null | undefined;
  tcp: Record<string, TcpPortHandler | null> | null | undefined;
  funnel: Record<string, boolean> | null | undefined;
  service?: string;
}

/** The top level, then foreground sessions, then Services: each a (Web, TCP, AllowFunnel) triple. */
function serveParts(config: ServeConfig): ServePart[] {
  const parts: ServePart[] = [{ scope: "", web: config.Web, tcp: config.TCP, funnel: config.AllowFunnel }];
  for (const [session, fg] of Object.entries(config.Foreground ?? {})) {
    // AllowFunnel for a foreground funnel lives in that session's config.
    parts.push({ scope: `Foreground.${session}`, web: fg?.Web, tcp: fg?.TCP, funnel: fg?.AllowFunnel ?? config.AllowFunnel });
  }
  for (const [name, service] of Object.entries(config.Services ?? {})) {
    parts.push({ scope: `Services.${name}`, web: service?.Web, tcp: service?.TCP, funnel: config.AllowFunnel, service: name });
  }
  return parts;
}

function scoped(scope: string, what: "Web" | "TCP"): string {
  return scope ? `${scope}.${what}` : what;
}

/**
 * The route to this gateway. A Web handler proxying to loopback:<gateway
 * port> wins (root mount first), then a TCP forward to that port. With
 * gateway.tailscale.mode "serve"/"funnel", OpenClaw instead claims a
 * foreground route to a private ephemeral loopback listener of its own
 * (OpenClaw's openclaw/docs/gateway/tailscale.md, shipped in the pinned package), so a foreground root handler to another loopback port
 * is taken as that listener.
 */
export function findGatewayRoute(config: ServeConfig | null | undefined, gatewayPort: number, options: RouteOptions): GatewayRoute | undefined {
  const handlers = serveHandlers(config).filter((h) => loopbackProxyPort(h.proxy) !== undefined);
  const byRootFirst = (a: ServeHandlerEntry, b: ServeHandlerEntry) => Number(b.mount === "/") - Number(a.mount === "/");
  const direct = handlers.filter((h) => loopbackProxyPort(h.proxy) === gatewayPort).sort(byRootFirst)[0];
  if (direct) return { ...direct, target: "gateway-port", targetPort: gatewayPort, url: routeUrl(direct) };
  const forward = tcpForwards(config, options).find((f) => loopbackProxyPort(f.proxy) === gatewayPort);
  if (forward) return { ...forward, target: "gateway-port", targetPort: gatewayPort, url: forwardUrl(forward, options.gatewayTls === true) };
  if (!options.managedByOpenClaw) return undefined;
  const managed = handlers.find((h) => h.scope.startsWith("Foreground.") && h.mount === "/");
  return managed ? { ...managed, target: "managed-listener", targetPort: loopbackProxyPort(managed.proxy)!, url: routeUrl(managed) } : undefined;
}

/**
 * A TCP forward's URL. TLS-terminated: https on its TerminateTLS name. Raw:
 * tailscaled passes bytes through, so a client speaks whatever the gateway
 * speaks on that port (plain HTTP/WebSocket, or TLS with gateway.tls.enabled);
 * the port is spelled out when it is not the scheme's default (http on 443).
 */
function forwardUrl(entry: ServeHandlerEntry, gatewayTls: boolean): string | undefined {
  const colon = entry.key.lastIndexOf(":");
  if (colon < 0) return undefined;
  const scheme = entry.kind === "tls-terminated tcp" || gatewayTls ? "https" : "http";
  const port = Number(entry.key.slice(colon + 1));
  return `${scheme}://${entry.key.slice(0, colon)}${port === (scheme === "https" ? 443 : 80) ? "" : `:${port}`}`;
}

/**
 * The port of a proxy target on this host, in every form `tailscale serve`
 * accepts (ipn.ExpandProxyTargetValue): "3000", "localhost:3000",
 * "http://127.0.0.1:3000/", "https+insecure://localhost:3000"; undefined for
 * remote targets and unix sockets.
 */
export function loopbackProxyPort(proxy: string): number | undefined {
  const trimmed = proxy.trim();
  if (/^\d+$/.test(trimmed)) return validPort(Number(trimmed));
  if (trimmed.startsWith("unix:")) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(trimmed.includes("://") ? trimmed : `http://${trimmed}`);
  } catch {
    return undefined;
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host !== "localhost" && host !== "::1" && !/^127(\.\d{1,3}){3}$/.test(host)) return undefined;
  return parsed.port ? validPort(Number(parsed.port)) : undefined;
}

/** https://host[:port][/mount]: the scheme from the TCP port handler, default ports left out. */
export function routeUrl(entry: Pick<ServeHandlerEntry, "key" | "mount" | "tcp">): string {
  const port = portOfKey(entry.key);
  const host = entry.key.slice(0, entry.key.lastIndexOf(":"));
  const scheme = entry.tcp?.HTTP && !entry.tcp.HTTPS ? "http" : "https";
  const defaultPort = scheme === "https" ? 443 : 80;
  const mount = entry.mount.replace(/\/+$/, "");
  return `${scheme}://${host}${port === undefined || port === defaultPort ? "" : `:${port}`}${mount}`;
}

function portOfKey(key: string): number | undefined {
  const colon = key.lastIndexOf(":");
  return colon < 0 ? undefined : validPort(Number(key.slice(colon + 1)));
}

function validPort(port: number): number | undefined {
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}
