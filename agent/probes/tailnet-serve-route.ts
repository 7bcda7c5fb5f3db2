// Which Tailscale Serve route publishes the gateway, and the tailnet URL it
// gives. Routes live in ServeConfig.Web (background `tailscale serve --bg`),
// in every Foreground.<session>.Web (a `tailscale serve` still running, which
// is how OpenClaw's gateway.tailscale.mode "serve" claims its route) and in
// Services.<svc:name>.Web (Tailscale Services). Shapes: ipn/serve.go.
import type { ServeConfig, TcpPortHandler, WebServerConfig } from "../discovery/tailscale-localapi.ts";

export interface ServeHandlerEntry {
  /** Where in the config: "Web", "Foreground.<id>.Web", "Services.<svc:name>.Web". */
  scope: string;
  /** The Web key, "host:port" (no implicit 443). */
  key: string;
  mount: string;
  proxy: string;
  tcp?: TcpPortHandler;
  funnel: boolean;
}

export interface GatewayRoute extends ServeHandlerEntry {
  /** "gateway-port": proxies to 127.0.0.1:<gateway port>; "managed-listener": OpenClaw's own Serve listener. */
  target: "gateway-port" | "managed-listener";
  targetPort: number;
  url: string;
}

/** Every proxy handler in the config, background first, then foreground sessions, then Services. */
export function serveHandlers(config: ServeConfig | null | undefined): ServeHandlerEntry[] {
  if (!config) return [];
  const out: ServeHandlerEntry[] = [];
  const collect = (scope: string, web: Record<string, WebServerConfig | null> | null | undefined, tcp: Record<string, TcpPortHandler | null> | null | undefined, funnel: Record<string, boolean> | null | undefined) => {
    for (const [key, server] of Object.entries(web ?? {})) {
      const port = portOfKey(key);
      for (const [mount, handler] of Object.entries(server?.Handlers ?? {})) {
        if (!handler?.Proxy) continue;
        out.push({ scope, key, mount, proxy: handler.Proxy, tcp: (port !== undefined ? tcp?.[String(port)] : undefined) ?? undefined, funnel: funnel?.[key] === true });
      }
    }
  };
  collect("Web", config.Web, config.TCP, config.AllowFunnel);
  for (const [session, fg] of Object.entries(config.Foreground ?? {})) {
    // AllowFunnel for a foreground funnel lives in that session's config.
    collect(`Foreground.${session}.Web`, fg?.Web, fg?.TCP, fg?.AllowFunnel ?? config.AllowFunnel);
  }
  for (const [name, service] of Object.entries(config.Services ?? {})) {
    collect(`Services.${name}.Web`, service?.Web, service?.TCP, config.AllowFunnel);
  }
  return out;
}

/**
 * The route to this gateway. A handler proxying to loopback:<gateway port>
 * wins (root mount first). With gateway.tailscale.mode "serve"/"funnel",
 * OpenClaw instead claims a foreground route to a private ephemeral loopback
 * listener of its own (docs gateway/tailscale.md), so a foreground root
 * handler to another loopback port is taken as that listener.
 */
export function findGatewayRoute(config: ServeConfig | null | undefined, gatewayPort: number, options: { managedByOpenClaw: boolean }): GatewayRoute | undefined {
  const handlers = serveHandlers(config).filter((h) => loopbackProxyPort(h.proxy) !== undefined);
  const byRootFirst = (a: ServeHandlerEntry, b: ServeHandlerEntry) => Number(b.mount === "/") - Number(a.mount === "/");
  const direct = handlers.filter((h) => loopbackProxyPort(h.proxy) === gatewayPort).sort(byRootFirst)[0];
  if (direct) return { ...direct, target: "gateway-port", targetPort: gatewayPort, url: routeUrl(direct) };
  if (!options.managedByOpenClaw) return undefined;
  const managed = handlers.find((h) => h.scope.startsWith("Foreground.") && h.mount === "/");
  return managed ? { ...managed, target: "managed-listener", targetPort: loopbackProxyPort(managed.proxy)!, url: routeUrl(managed) } : undefined;
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
