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
