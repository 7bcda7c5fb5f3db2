// Baseline layer: the production posture to reach before go-live. Patched
// OpenClaw, a supported Node, loopback bind, auth on, HTTPS for the Control UI
// off loopback, and no live secret lying in a shell history.
import { isLoopbackHost } from "../../shared/loopback.ts";
import { passed, problem, type Finding } from "../../shared/finding.ts";
import { affecting, loadAdvisories, satisfiesEngines } from "../discovery/advisories.ts";
import { configValue } from "../discovery/openclaw-config.ts";
import { historyFiles, secretsInHistory } from "../discovery/shell-history.ts";
import { allTokenSources } from "../discovery/token-sources.ts";
import { gatewayNodeVersion } from "../observations/gateway-node.ts";
import { serviceDiscovery } from "../observations/gateway-services.ts";
import { loopbackOpen, portOwner } from "../observations/host-gateway.ts";
import { anonymousHandshake, clientHandshake } from "../observations/token-handshakes.ts";
import type { Check } from "./check.ts";

/** Tailscale's CGNAT range 100.64.0.0/10 and its IPv6 ULA prefix. */
const TAILNET = /^(100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.|fd7a:115c:a1e0:)/i;

export const baselineCheck: Check = {
  name: "baseline",
  layer: "baseline",
  // Above loopback (1.5 s) then a handshake (7 s); Node's version is read beside them.
  deadlineMs: 9000,
  observes: [portOwner, loopbackOpen, serviceDiscovery, clientHandshake, anonymousHandshake, gatewayNodeVersion],
  async run(ctx): Promise<Finding[]> {
    const [owner, open, { services }] = await Promise.all([ctx.observe(portOwner), ctx.observe(loopbackOpen), ctx.observe(serviceDiscovery)]);
    const live = owner.gateway;
    const findings: Finding[] = [];
    const config = ctx.world.config;
    // What could not be judged: said in the passed summary, never counted as fine.
    const undecided: string[] = [];

    const version = live?.version ?? (open ? (await ctx.observe(clientHandshake))?.serverVersion : undefined);
    if (version) {
      const { advisories, error } = loadAdvisories(ctx.world.env.CLAWFLEET_ADVISORIES);
      const { affected, cannotTell } = affecting(advisories, version);
      if (cannotTell.length > 0) undecided.push(`cannot tell whether ${cannotTell.map((a) => a.id).join(", ")} affect${cannotTell.length === 1 ? "s" : ""} OpenClaw ${version} (not a version semver orders)`);
      for (const advisory of affected) {
        findings.push(problem("baseline", "openclaw_vulnerable", `OpenClaw ${version} is affected by ${advisory.id} (${advisory.title}); fixed in ${advisory.fixedIn}.`, {
          version,
          advisory: advisory.id,
          fixedIn: advisory.fixedIn,
          sources: advisory.sources.join(" "),
        }));
      }
      if (error) findings.push(problem("baseline", "check_error", `Operator advisories could not be read: ${error}.`, { check: "baseline", error }, "error"));
    }

    const nodeVersion = await ctx.observe(gatewayNodeVersion);
    const required = live?.enginesNode ?? ">=24";
    const supported = nodeVersion ? satisfiesEngines(nodeVersion, required) : undefined;
    if (nodeVersion && supported === undefined) undecided.push(`cannot tell whether Node ${nodeVersion} satisfies OpenClaw's engines range "${required}"`);
    if (nodeVersion && supported === false) {
      findings.push(problem("baseline", "node_runtime_unsupported", `The gateway runs Node ${nodeVersion}, outside OpenClaw's supported range ${required}.`, { nodeVersion, required }));
    }

    const exposed = owner.listenAddresses.filter((a) => !isLoopbackHost(a));
    const bind = String(configValue(config.raw, "gateway.bind") ?? "loopback");
    if (exposed.length > 0) {
      const tailnetOnly = exposed.every((a) => TAILNET.test(a));
      findings.push(problem("baseline", "gateway_exposed", `The gateway listens on ${exposed.join(", ")} (gateway.bind "${bind}"), beyond loopback${tailnetOnly ? " on the tailnet" : ""}.`, {
        bind: exposed.join(","),
        configBind: bind,
      }, tailnetOnly ? "warn" : "fail"));
      const tls = configValue(config.raw, "gateway.tls.enabled") === true;
      const controlUi = configValue(config.raw, "gateway.controlUi.enabled") !== false;
      if (!tls && controlUi) {
        findings.push(problem("baseline", "insecure_transport", `The Control UI is served over plain HTTP on ${exposed.join(", ")}: browsers refuse WebCrypto there, and tokens cross the network in clear.`, { bind: exposed.join(",") }));
      }
    }

    // Funnel publishes the gateway to the whole internet. (Tailscale mode with a
    // non-loopback bind stops the gateway from starting: the startup check's tailscale_bind_conflict.)
    const tailscaleMode = configValue(config.raw, "gateway.tailscale.mode");
    if (tailscaleMode === "funnel") {
      findings.push(problem("baseline", "gateway_exposed", `gateway.tailscale.mode is "funnel": the gateway is published to the whole internet through Tailscale Funnel, not only to the tailnet.`, { bind: "tailscale funnel (internet)", configBind: bind }, "warn"));
    }

    const authMode = configValue(config.raw, "gateway.auth.mode");
    const noTokenAccepted = open && ctx.world.tokenSources.length === 0 ? (await ctx.observe(anonymousHandshake)).outcome === "accepted" : false;
    if (authMode === "none" || noTokenAccepted) {
      findings.push(problem("baseline", "auth_disabled", authMode === "none" ? `gateway.auth.mode is "none" in ${config.path}.` : "The gateway accepts clients without any token.", { configPath: config.path }));
    }

    const secrets = allTokenSources(ctx.world, services, live).map((s) => s.value).filter((v): v is string => !!v);
    for (const hit of secretsInHistory(historyFiles(ctx.world.home, ctx.world.env), secrets)) {
      findings.push(problem("baseline", "secret_in_history", `${hit.path} contains ${hit.secrets.length === 1 ? "a live gateway token" : `${hit.secrets.length} live gateway tokens`} (${hit.secrets.map(ctx.fingerprint).join(", ")}).`, {
        path: hit.path,
        fingerprint: hit.secrets.map(ctx.fingerprint).join(","),
      }));
    }

    if (findings.length > 0) return findings;
    const parts = [version && !undecided.some((u) => u.includes(`OpenClaw ${version}`)) ? `OpenClaw ${version} has no known advisory` : undefined, nodeVersion && supported ? `Node ${nodeVersion}` : undefined, "loopback only", "auth on", "no token in shell history", ...undecided];
    return [passed("baseline", "baseline", `${parts.filter(Boolean).join("; ")}.`, { ...(version ? { version } : {}), ...(nodeVersion ? { nodeVersion } : {}), ...(undecided.length > 0 ? { cannotTell: undecided.join("; ") } : {}) })];
  },
};
