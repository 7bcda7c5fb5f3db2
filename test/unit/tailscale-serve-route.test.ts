// Which Serve route publishes the gateway, parsed from ipn.ServeConfig shapes
// (test/fixtures/tailscale), and the tailnet URL it gives.
import { describe, expect, it } from "vitest";
import type { ServeConfig } from "../../agent/discovery/tailscale-localapi.ts";
import { findGatewayRoute, loopbackProxyPort, routeUrl, serveHandlers } from "../../agent/probes/tailnet-serve-route.ts";
import { serveConfigFixture } from "../fakes/tailscale-localapi.ts";

const HOST = "mini-01.tail1234.ts.net";
const GATEWAY = 18789;
const plain = { managedByOpenClaw: false };

describe("Serve route to the gateway", () => {
  it("finds a background route in Web: https://<host> with 443 left out", () => {
    const config = serveConfigFixture("background", { host: HOST, targetPort: GATEWAY });
    expect(findGatewayRoute(config, GATEWAY, plain)).toMatchObject({
      scope: "Web", key: `${HOST}:443`, mount: "/", proxy: `http://127.0.0.1:${GATEWAY}`, target: "gateway-port", targetPort: GATEWAY, url: `https://${HOST}`, funnel: false,
    });
  });

  it("finds a route under Foreground.<session>.Web and keeps a non-default HTTPS port in the URL", () => {
    const config = serveConfigFixture("foreground", { host: HOST, httpsPort: 8443, targetPort: GATEWAY });
    expect(findGatewayRoute(config, GATEWAY, plain)).toMatchObject({ scope: "Foreground.6f1d2c3b4a596877.Web", key: `${HOST}:8443`, url: `https://${HOST}:8443` });
  });

  it("finds a route under Services.<svc:name>.Web, keyed by the service's own name", () => {
    const host = "openclaw.tail1234.ts.net";
    const config = serveConfigFixture("services", { host, targetPort: GATEWAY });
    expect(findGatewayRoute(config, GATEWAY, plain)).toMatchObject({ scope: "Services.svc:openclaw.Web", url: `https://${host}` });
  });

  it("finds nothing for null (no Serve config), an empty config, or routes to other ports and non-proxy handlers", () => {
    expect(findGatewayRoute(null, GATEWAY, plain)).toBeUndefined();
    expect(findGatewayRoute({}, GATEWAY, plain)).toBeUndefined();
    const other = serveConfigFixture("other-app", { host: HOST, targetPort: GATEWAY });
    expect(findGatewayRoute(other, GATEWAY, plain)).toBeUndefined();
    expect(findGatewayRoute(other, GATEWAY, { managedByOpenClaw: true })).toBeUndefined();
    // The Text handler is not a proxy; the /grafana mount is another app.
    expect(serveHandlers(other).map((h) => [h.key, h.mount, h.proxy])).toEqual([[`${HOST}:443`, "/grafana", "http://127.0.0.1:3000"]]);
  });

  it("takes OpenClaw's managed listener (a foreground root route to another loopback port) only when gateway.tailscale.mode manages Serve", () => {
    const config = serveConfigFixture("foreground", { host: HOST, targetPort: 41234 });
    expect(findGatewayRoute(config, GATEWAY, plain)).toBeUndefined();
    expect(findGatewayRoute(config, GATEWAY, { managedByOpenClaw: true })).toMatchObject({ target: "managed-listener", targetPort: 41234, url: `https://${HOST}` });
    // A background route to another port is someone else's, even in serve mode.
    expect(findGatewayRoute(serveConfigFixture("background", { host: HOST, targetPort: 41234 }), GATEWAY, { managedByOpenClaw: true })).toBeUndefined();
  });

  it("prefers a direct route to the gateway port over the managed listener, and the root mount over a path mount", () => {
    const config: ServeConfig = {
      TCP: { "443": { HTTPS: true } },
      Web: { [`${HOST}:443`]: { Handlers: { "/openclaw/": { Proxy: `localhost:${GATEWAY}` }, "/": { Proxy: `http://localhost:${GATEWAY}/` } } } },
      Foreground: { abc: { TCP: { "8443": { HTTPS: true } }, Web: { [`${HOST}:8443`]: { Handlers: { "/": { Proxy: "http://127.0.0.1:41234" } } } } } },
    };
    expect(findGatewayRoute(config, GATEWAY, { managedByOpenClaw: true })).toMatchObject({ scope: "Web", mount: "/", target: "gateway-port", url: `https://${HOST}` });
    delete config.Web![`${HOST}:443`]!.Handlers!["/"];
    expect(findGatewayRoute(config, GATEWAY, plain)).toMatchObject({ mount: "/openclaw/", url: `https://${HOST}/openclaw` });
  });

  // `tailscale serve --bg --tcp 443 18789` (SetTCPForwarding): no Web handler at
  // all, only TCP."443".TCPForward. Clients speak the gateway's own protocol on
  // 443, so the URL is http:// with the port spelled out (or https:// when the
  // gateway terminates TLS itself, gateway.tls.enabled).
  it("finds a raw TCP forward (`serve --tcp`) to the gateway and gives an http:// URL with port 443 spelled out", () => {
    const config = serveConfigFixture("tcp-forward", { host: HOST, targetPort: GATEWAY });
    expect(findGatewayRoute(config, GATEWAY, { ...plain, nodeName: HOST })).toMatchObject({
      scope: "TCP", key: `${HOST}:443`, proxy: `127.0.0.1:${GATEWAY}`, kind: "tcp forward", target: "gateway-port", targetPort: GATEWAY, url: `http://${HOST}:443`, funnel: false,
    });
    expect(findGatewayRoute(config, GATEWAY, { ...plain, nodeName: HOST, gatewayTls: true })?.url).toBe(`https://${HOST}`);
    // A forward to another port is another app's.
    expect(findGatewayRoute(serveConfigFixture("tcp-forward", { host: HOST, targetPort: 5432 }), GATEWAY, { ...plain, nodeName: HOST })).toBeUndefined();
  });

  it("finds a TLS-terminated TCP forward (`serve --tls-terminated-tcp`): https:// on the TerminateTLS name", () => {
    const config = serveConfigFixture("tls-terminated-tcp", { host: HOST, httpsPort: 8443, targetPort: GATEWAY });
    expect(findGatewayRoute(config, GATEWAY, plain)).toMatchObject({ scope: "TCP", key: `${HOST}:8443`, kind: "tls-terminated tcp", url: `https://${HOST}:8443` });
  });

  it("finds a TCP forward of a Tailscale Service (Services.svc:x.TCP) on <name>.<MagicDNS suffix>, localhost target included", () => {
    const config = serveConfigFixture("service-tcp", { host: HOST, targetPort: GATEWAY });
    expect(findGatewayRoute(config, GATEWAY, { ...plain, nodeName: HOST, magicDnsSuffix: "tail1234.ts.net" })).toMatchObject({
      scope: "Services.svc:openclaw.TCP", key: "openclaw.tail1234.ts.net:443", proxy: `localhost:${GATEWAY}`, kind: "tcp forward", service: "svc:openclaw", url: "http://openclaw.tail1234.ts.net:443",
    });
  });

  it("finds a foreground TCP forward, and prefers a Web route to the gateway over a TCP one", () => {
    const fg: ServeConfig = { Foreground: { "6f1d2c3b4a596877": serveConfigFixture("tcp-forward", { host: HOST, httpsPort: 10000, targetPort: GATEWAY }) } };
    expect(findGatewayRoute(fg, GATEWAY, { ...plain, nodeName: HOST })).toMatchObject({ scope: "Foreground.6f1d2c3b4a596877.TCP", kind: "tcp forward", url: `http://${HOST}:10000` });
    const both: ServeConfig = { ...serveConfigFixture("background", { host: HOST, targetPort: GATEWAY }), ...fg };
    expect(findGatewayRoute(both, GATEWAY, { ...plain, nodeName: HOST })).toMatchObject({ scope: "Web", kind: "https proxy" });
    // A TCP forward to the gateway port is a direct route: it beats the managed-listener guess.
    expect(findGatewayRoute({ ...serveConfigFixture("foreground", { host: HOST, targetPort: 41234 }), TCP: { "10000": { TCPForward: `127.0.0.1:${GATEWAY}` } } }, GATEWAY, { managedByOpenClaw: true, nodeName: HOST })).toMatchObject({ scope: "TCP", target: "gateway-port" });
  });

  it("marks a route whose host:port is under Funnel", () => {
    const config = serveConfigFixture("background", { host: HOST, targetPort: GATEWAY });
    config.AllowFunnel = { [`${HOST}:443`]: true };
    expect(findGatewayRoute(config, GATEWAY, plain)?.funnel).toBe(true);
  });

  it("reads every proxy form tailscale serve stores (ipn.ExpandProxyTargetValue), loopback only", () => {
    expect(loopbackProxyPort("18789")).toBe(18789);
    expect(loopbackProxyPort("localhost:18789")).toBe(18789);
    expect(loopbackProxyPort("http://127.0.0.1:18789")).toBe(18789);
    expect(loopbackProxyPort("http://localhost:18789/")).toBe(18789);
    expect(loopbackProxyPort("https+insecure://127.0.0.1:18789")).toBe(18789);
    expect(loopbackProxyPort("http://[::1]:18789")).toBe(18789);
    expect(loopbackProxyPort("http://127.0.1.1:18789")).toBe(18789);
    expect(loopbackProxyPort("http://10.0.0.5:18789")).toBeUndefined();
    expect(loopbackProxyPort("https://example.com")).toBeUndefined();
    expect(loopbackProxyPort("unix:/var/run/app.sock")).toBeUndefined();
    expect(loopbackProxyPort("http://localhost")).toBeUndefined();
  });

  it("builds the URL from the Web key and the TCP handler: https by default, http for an HTTP port, IPv6 kept in brackets", () => {
    expect(routeUrl({ key: `${HOST}:443`, mount: "/", tcp: { HTTPS: true } })).toBe(`https://${HOST}`);
    expect(routeUrl({ key: `${HOST}:10000`, mount: "/", tcp: { HTTPS: true } })).toBe(`https://${HOST}:10000`);
    expect(routeUrl({ key: `${HOST}:80`, mount: "/", tcp: { HTTP: true } })).toBe(`http://${HOST}`);
    expect(routeUrl({ key: `${HOST}:8080`, mount: "/ui/", tcp: { HTTP: true } })).toBe(`http://${HOST}:8080/ui`);
    expect(routeUrl({ key: "[fd7a:115c:a1e0::1]:443", mount: "/" })).toBe("https://[fd7a:115c:a1e0::1]");
  });
});
