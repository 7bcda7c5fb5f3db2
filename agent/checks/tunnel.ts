// Tunnel layer: the gateway works on loopback; does it work through its
// tailnet URL? In triage order: is Tailscale up and logged in (LocalAPI),
// which Serve route publishes the gateway, does the node's MagicDNS name
// resolve, and then, through that URL, TLS, /healthz, and the client token
// over HTTP and the WebSocket handshake, compared with the same token on
// loopback. Loopback good + tailnet bad is a tunnel fault, never a session one.
import { passed, problem, skipped, type Finding } from "../../shared/finding.ts";
import { AGENT_VERSION } from "../../shared/version.ts";
import { configValue } from "../discovery/openclaw-config.ts";
import { keyExpired, selfDnsName, type IpnStatus, type LocalApiEndpoint } from "../discovery/tailscale-localapi.ts";
import { gatewayHandshake } from "../probes/gateway-handshake.ts";
import { resolveName } from "../probes/tailnet-dns.ts";
import { httpProbe, tokenProbe, type TokenProbeResult } from "../probes/tailnet-http.ts";
import { findGatewayRoute, type GatewayRoute } from "../probes/tailnet-serve-route.ts";
import type { Check, CheckContext } from "./check.ts";
import { loopbackOpen } from "../observations/host-gateway.ts";
import { orElse } from "../observations/observation.ts";
import { tailscaleReading } from "../observations/tailscale.ts";
import { clientHandshake } from "../observations/token-handshakes.ts";
import { within } from "../../shared/within.ts";

const CHECK = "tunnel";
const DNS_TIMEOUT_MS = 1500;
const LOOPBACK_TOKEN_TIMEOUT_MS = 4000;
const PATH_TIMEOUT_MS = 2500;

type Evidence = Record<string, string>;

export const tunnelCheck: Check = {
  name: CHECK,
  layer: "tunnel",
  // LocalAPI (1.5 s) beside the loopback baseline (≤ 4 s), then the path
  // probes (2.5 s); a healthy host answers in milliseconds.
  deadlineMs: 7000,
  observes: [loopbackOpen, clientHandshake, tailscaleReading],
  async run(ctx): Promise<Finding[]> {
    const { world } = ctx;
    const bind = stringAt(world.config.raw, "gateway.bind") ?? "loopback";
    const mode = stringAt(world.config.raw, "gateway.tailscale.mode") ?? "off";
    const overrideUrl = world.env.CLAWFLEET_TAILNET_URL?.trim().replace(/\/+$/, "") || undefined;
    const evidence: Evidence = { port: String(world.port), configPath: world.config.path, gatewayBind: bind, tailscaleMode: mode };

    // Started now, awaited later: decides whether the token may go down the path.
    const loopback = loopbackToken(ctx);
    const reading = await ctx.observe(tailscaleReading);

    if (!reading.endpoint) {
      if (mode === "off" && bind !== "tailnet") {
        const why = bind === "loopback" ? "the gateway is bound to loopback only" : `the gateway is bound to ${bind}, not published through Tailscale`;
        return [skipped(CHECK, "tunnel", `Tailscale is not installed (no LocalAPI socket, no tailscale on PATH, no macOS app) and ${why}: there is no tailnet path to check.`, evidence)];
      }
      return [problem(CHECK, "tailscale_not_running", `The config asks for Tailscale (gateway.tailscale.mode ${mode}, gateway.bind ${bind}) but Tailscale is not installed on this host (no LocalAPI socket, no tailscale on PATH).`, evidence)];
    }
    evidence.localApi = describeEndpoint(reading.endpoint);
    if (!reading.status) {
      return [problem(CHECK, "tailscale_not_running", `Tailscale is installed (${reading.installSigns.join(", ") || evidence.localApi}) but tailscaled does not answer on ${evidence.localApi}: ${reading.statusError}.`, { ...evidence, localApiError: reading.statusError ?? "" })];
    }
    const status = reading.status;
    evidence.backendState = status.BackendState;
    const dnsName = selfDnsName(status);
    if (dnsName) evidence.dnsName = dnsName;
    const stateProblem = backendProblem(status, evidence);
    if (stateProblem) return [stateProblem];

    const findings: Finding[] = [];
    const managedByOpenClaw = mode === "serve" || mode === "funnel";
    const route = findGatewayRoute(reading.serveConfig, world.port, {
      managedByOpenClaw,
      nodeName: dnsName,
      magicDnsSuffix: status.CurrentTailnet?.MagicDNSSuffix || status.MagicDNSSuffix,
      gatewayTls: configValue(world.config.raw, "gateway.tls.enabled") === true,
    });
    let url = overrideUrl ?? route?.url;
    if (route) {
      Object.assign(evidence, { serveKind: route.service ? `service ${route.service}, ${route.kind}` : route.kind, serveKey: route.key, serveScope: route.scope, serveProxy: route.proxy, serveTarget: route.target });
      if (route.mount) evidence.serveMount = route.mount;
      if (route.funnel) evidence.funnel = "true";
      if (route.tcp?.ProxyProtocol) evidence.serveProxyProtocol = String(route.tcp.ProxyProtocol);
      const note = forwardNote(route, route.url);
      if (note) evidence.serveNote = note;
    } else if (reading.serveError) {
      // Unreadable, not absent: OpenClaw's own route would be https://<DNSName>.
      evidence.serveError = reading.serveError;
      if (managedByOpenClaw && dnsName) url ??= `https://${dnsName}`;
    } else if (managedByOpenClaw) {
      findings.push(problem(CHECK, "serve_not_configured", `gateway.tailscale.mode is "${mode}" but no Tailscale Serve route (Web handler or TCP forward, background, foreground or Service) leads to the gateway on 127.0.0.1:${world.port}: tailnet clients have nothing to connect to.`, { ...evidence }));
    } else if (bind === "tailnet") {
      const ip = (status.Self?.TailscaleIPs ?? status.TailscaleIPs ?? []).find((a) => a.includes("."));
      if (ip) url ??= `http://${ip}:${world.port}`;
    }
    if (!url) {
      if (findings.length > 0) return findings;
      return [passed(CHECK, "tunnel", `Tailscale is running${dnsName ? ` as ${dnsName}` : ""}; no Serve route publishes the gateway (gateway.tailscale.mode ${mode}), so there is no tailnet path to probe.`, evidence)];
    }
    evidence.tailnetUrl = url;
    evidence.url = url;
    evidence.urlSource = overrideUrl ? "CLAWFLEET_TAILNET_URL" : route ? "serve" : bind === "tailnet" ? "tailnet bind" : "MagicDNS name";

    // DNS and /healthz need no token: they start now, beside the loopback baseline.
    const resolving = dnsName ? resolveName(dnsName, DNS_TIMEOUT_MS) : Promise.resolve(undefined);
    const healthz = httpProbe(`${url}/healthz`, { timeoutMs: PATH_TIMEOUT_MS, signal: ctx.signal });
    const lb = await loopback;
    if (!lb.open) {
      await Promise.all([resolving, healthz]);
      return [...findings, skipped(CHECK, "tunnel", `Tailnet path ${url} not probed: the gateway does not answer on loopback.`, evidence)];
    }
    // The token goes down the path only once loopback has accepted it, so a
    // bad token never counts against this node's remote lockout: the
    // handshake's acceptance gates the WebSocket probe, the loopback HTTP
    // probe's gates the HTTP one.
    const wsToken = lb.handshake === "accepted" ? lb.token : undefined;
    const httpTokenValue = lb.result?.verdict === "accepted" ? lb.token : undefined;
    if (lb.token !== undefined) {
      evidence.fingerprint = ctx.fingerprint(lb.token);
      evidence.source = lb.source ?? "";
      evidence.loopbackHandshake = lb.handshake ?? "";
      if (lb.result) evidence.loopbackTokenStatus = tokenStatusText(lb.result);
    }
    const pathSignal = AbortSignal.any([ctx.signal, AbortSignal.timeout(PATH_TIMEOUT_MS)]);
    const [resolution, health, httpToken, ws] = await Promise.all([
      resolving,
      healthz,
      httpTokenValue !== undefined ? tokenProbe(url, httpTokenValue, { timeoutMs: PATH_TIMEOUT_MS, signal: ctx.signal }) : undefined,
      wsToken !== undefined ? gatewayHandshake(url.replace(/^http/, "ws"), wsToken, pathSignal, AGENT_VERSION) : undefined,
    ]);

    if (resolution && "error" in resolution) {
      const disabled = status.CurrentTailnet?.MagicDNSEnabled === false ? " (MagicDNS is disabled for this tailnet)" : "";
      findings.push(problem(CHECK, "magicdns_unresolved", `This node's MagicDNS name ${dnsName} does not resolve on this host (${resolution.error})${disabled}.`, { ...evidence, dnsError: resolution.error }));
      // The path through that name cannot work; its failures are this one.
      if (new URL(url).hostname === dnsName) return findings;
    } else if (resolution) {
      evidence.dnsAddresses = resolution.addresses.join(",");
    }

    if (health.error) {
      evidence.healthzError = health.error.code;
      if (health.error.kind === "tls") {
        const tlsError = `${health.error.code}: ${health.error.message}`;
        findings.push(problem(CHECK, "tls_failed", `TLS to ${url} fails: ${tlsError}. Loopback works, so clients on the tailnet fail before any token is checked.`, { ...evidence, tlsError }));
      } else {
        findings.push(problem(CHECK, "tailnet_unreachable", `The gateway works on loopback but ${url} does not answer (${health.error.code}: ${health.error.message}).${proxyProtocolHint(evidence)}`, { ...evidence }));
      }
      return findings;
    }
    evidence.healthzStatus = String(health.status);
    if (health.status !== 200) {
      findings.push(problem(CHECK, "tailnet_unreachable", `The gateway works on loopback but ${url}/healthz answers HTTP ${health.status}: the route does not reach a live gateway.${proxyProtocolHint(evidence)}`, { ...evidence }));
      return findings;
    }
    if (!ws) {
      const why = lb.token === undefined ? "no client token is configured" : `the gateway did not accept it on loopback (handshake ${lb.handshake}; see the session check)`;
      findings.push(passed(CHECK, "tunnel", `${url} reaches the gateway (${tlsWord(url)}/healthz fine); the token was not sent through the path because ${why}.${noteSuffix(evidence)}`, evidence));
      return findings;
    }

    evidence.wsOutcome = ws.outcome;
    if (ws.detailCode) evidence.wsReason = ws.detailCode;
    if (httpToken) evidence.tokenStatus = tokenStatusText(httpToken);
    const pathProblems: Finding[] = [];
    const wrongGateway = httpToken?.verdict === "rejected" && ws.outcome === "rejected";
    if (httpToken?.verdict === "proxy_attribution_required") {
      pathProblems.push(problem(CHECK, "proxy_attribution_required", `Through ${url} the gateway answers HTTP 403 proxy_attribution_required: a proxy on the path adds X-Forwarded-* headers and gateway.trustedProxies does not trust it.`, { ...evidence }));
    } else if (wrongGateway) {
      pathProblems.push(problem(CHECK, "tailnet_unreachable", `The token ${evidence.fingerprint} works on loopback but ${url} leads to a gateway that rejects it over HTTP and WebSocket (${ws.detailCode ?? ws.message ?? "rejected"}): the route does not reach this gateway.`, { ...evidence }));
    } else if (httpToken?.verdict === "rejected") {
      pathProblems.push(problem(CHECK, "headers_stripped", `The token ${evidence.fingerprint} (${lb.source}) is accepted on loopback (HTTP 400) but rejected through ${url} (HTTP 401): a proxy on the path drops the Authorization header.`, { ...evidence }));
    } else if (httpToken && httpToken.verdict !== "accepted") {
      pathProblems.push(problem(CHECK, "tailnet_unreachable", `The token works on loopback but POST ${url}/tools/invoke gives ${evidence.tokenStatus}.`, { ...evidence }));
    }
    if (ws.outcome !== "accepted" && !wrongGateway) {
      const how = ws.outcome === "rejected" ? `the handshake is refused (${ws.detailCode ?? ws.message ?? `close ${ws.closeCode}`})` : ws.outcome === "timeout" ? "the upgrade never completes" : "the WebSocket upgrade fails";
      pathProblems.push(problem(CHECK, "websocket_blocked", `HTTP reaches the gateway through ${url} (/healthz 200) but ${how}: clients that connect over wss:// fail.`, { ...evidence }));
    }
    if (pathProblems.length > 0) return [...findings, ...pathProblems];
    const over = httpToken ? "HTTP and WebSocket" : "WebSocket (no HTTP baseline on loopback)";
    findings.push(passed(CHECK, "tunnel", `The gateway answers through ${url} as on loopback: ${tlsWord(url)}/healthz 200, token ${evidence.fingerprint} accepted over ${over}.${noteSuffix(evidence)}`, evidence));
    return findings;
  },
};

/**
 * What a TCP forward means for clients and for this probe. tailscaled passes
 * bytes through from 127.0.0.1 with no X-Forwarded-* headers, so the gateway
 * counts every tailnet client as a direct local one (OpenClaw's
 * isLocalDirectRequest: loopback peer, no forwarded headers). On a raw
 * forward clients must also speak the gateway's own protocol; the probe does
 * (http:// and ws://, or https:// with gateway TLS) rather than judge the
 * route by an HTTPS handshake the gateway never offered.
 */
function forwardNote(route: GatewayRoute, url: string | undefined): string | undefined {
  const local = "the gateway sees every tailnet client as a direct local connection from tailscaled (no forwarded headers)";
  if (route.kind === "tls-terminated tcp") return `TLS-terminated TCP forward: tailscaled ends TLS and passes plain bytes on; ${local}`;
  if (route.kind !== "tcp forward") return undefined;
  const port = route.key.slice(route.key.lastIndexOf(":") + 1);
  if (url?.startsWith("https:")) return `raw TCP forward: the gateway terminates TLS itself (gateway.tls.enabled), clients use https:// and wss:// on port ${port}; ${local}`;
  return `raw TCP forward: tailnet clients speak the gateway's own plain HTTP and WebSocket on port ${port} (http:// and ws://, no TLS), and so does this probe; https:// to this name fails and browsers get no secure context for the Control UI; ${local}`;
}

/** `serve --tcp … --proxy-protocol N` puts a PROXY header before the bytes; OpenClaw's HTTP server does not read one. */
function proxyProtocolHint(evidence: Evidence): string {
  return evidence.serveProxyProtocol ? ` The Serve TCP forward sends a PROXY protocol v${evidence.serveProxyProtocol} header first, which the gateway does not speak: drop --proxy-protocol.` : "";
}

function tlsWord(url: string): string {
  return url.startsWith("https:") ? "TLS, " : "";
}

function noteSuffix(evidence: Evidence): string {
  return evidence.serveNote ? ` (${evidence.serveNote})` : "";
}

interface LoopbackToken {
  open: boolean;
  token?: string;
  source?: string;
  /** The loopback HTTP token probe, made only after the handshake accepted the token. */
  result?: TokenProbeResult;
  handshake?: string;
}

/**
 * The baseline the tailnet path is compared with. The loopback handshake is
 * one of the token probes (an observation, so a bad token is sent once per
 * run); only a token it accepted gets the loopback HTTP probe, then the path.
 */
async function loopbackToken(ctx: CheckContext): Promise<LoopbackToken> {
  if (!(await orElse(ctx.observe(loopbackOpen), false))) return { open: false };
  const client = ctx.world.clientToken;
  if (!client?.value) return { open: true };
  const base = { open: true, token: client.value, source: client.source };
  // An accepted token is answered in milliseconds; a rejected one only after
  // the gateway's auth delay, which the session check waits out, not this one.
  const probed = orElse(ctx.observe(clientHandshake), undefined).then((result) => result?.outcome ?? "unavailable");
  const handshake = await within<string>(probed, LOOPBACK_TOKEN_TIMEOUT_MS, "slow");
  if (handshake !== "accepted") return { ...base, handshake };
  const result = await tokenProbe(`http://127.0.0.1:${ctx.world.port}`, client.value, { timeoutMs: LOOPBACK_TOKEN_TIMEOUT_MS, signal: ctx.signal });
  return { ...base, handshake, result };
}

/** ipn.State → the tunnel code a non-Running daemon earns (health/warnings.go login-state). */
function backendProblem(status: IpnStatus, evidence: Evidence): Finding | undefined {
  const state = status.BackendState;
  const health = (status.Health ?? []).join(" ");
  const withHealth = health ? { ...evidence, health } : { ...evidence };
  switch (state) {
    case "Running":
      return undefined;
    case "NeedsLogin":
      if (keyExpired(status)) {
        const expiry = status.Self?.KeyExpiry;
        return problem(CHECK, "tailscale_key_expired", `Tailscale's node key expired${expiry ? ` at ${expiry}` : ""}: this node is off the tailnet until it re-authenticates.`, expiry ? { ...withHealth, keyExpiry: expiry } : withHealth);
      }
      return problem(CHECK, "tailscale_needs_login", `Tailscale is logged out (NeedsLogin): tailnet clients cannot reach this gateway.`, withHealth);
    case "NeedsMachineAuth":
      return problem(CHECK, "tailscale_needs_login", `Tailscale waits for an admin to approve this machine (NeedsMachineAuth): tailnet clients cannot reach this gateway.`, withHealth);
    case "Starting":
      return problem(CHECK, "tailscale_not_running", `Tailscale is still starting (not yet connected to the tailnet).`, withHealth, "warn");
    case "Stopped":
      return problem(CHECK, "tailscale_not_running", `Tailscale is stopped (\`tailscale down\`): tailnet clients cannot reach this gateway.`, withHealth);
    default:
      return problem(CHECK, "tailscale_not_running", `tailscaled runs but is not up (BackendState ${state || "empty"}).`, withHealth);
  }
}

function describeEndpoint(endpoint: LocalApiEndpoint): string {
  // The TCP variant's password is a secret: only where it came from is shown.
  return endpoint.kind === "unix" ? `unix:${endpoint.socketPath} (${endpoint.via})` : `tcp:127.0.0.1:${endpoint.port} (${endpoint.via})`;
}

function tokenStatusText(result: TokenProbeResult): string {
  if (result.error) return `${result.error.code}`;
  return `HTTP ${result.status}${result.errorType ? ` ${result.errorType}` : ""}`;
}

function stringAt(raw: Record<string, unknown> | undefined, dotted: string): string | undefined {
  const value = configValue(raw, dotted);
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}
