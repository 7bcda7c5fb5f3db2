// Type checks for the two LocalAPI answers before anything reads them: the
// JSON is cast to ipnstate.Status / ipn.ServeConfig, and a wrongly typed field
// (Health as a string, a DNSName number) would otherwise surface as a
// TypeError deep in a check. Unknown fields are allowed (tailscaled adds
// fields between releases); a known field of the wrong type is an error that
// names it.
import type { IpnStatus, ServeConfig } from "./tailscale-localapi.ts";

type Shape = "string" | "boolean" | "strings" | ((value: unknown, path: string) => string | undefined);

/** ServeConfig.Foreground holds whole configs; tailscaled never nests them, so deeper is refused rather than recursed into. */
const MAX_SERVE_NESTING = 2;

export function checkStatus(value: unknown): { status: IpnStatus } | { error: string } {
  if (!isObject(value) || typeof value.BackendState !== "string") return { error: "status without BackendState" };
  const error = fields(value, "status", {
    Version: "string", HaveNodeKey: "boolean", TailscaleIPs: "strings", Health: "strings", MagicDNSSuffix: "string",
    Self: (v, p) => object(v, p, { HostName: "string", DNSName: "string", TailscaleIPs: "strings", Online: "boolean", Expired: "boolean", KeyExpiry: "string" }),
    CurrentTailnet: (v, p) => object(v, p, { Name: "string", MagicDNSSuffix: "string", MagicDNSEnabled: "boolean" }),
  });
  return error ? { error } : { status: value as unknown as IpnStatus };
}

/** `null` is tailscaled's answer when there is no Serve config at all. */
export function checkServeConfig(value: unknown): { config: ServeConfig | null } | { error: string } {
  if (value === null) return { config: null };
  const error = serveConfig(value, "serve config", 0);
  return error ? { error } : { config: value as ServeConfig };
}

function serveConfig(value: unknown, path: string, nesting: number): string | undefined {
  if (nesting > MAX_SERVE_NESTING) return `${path} is nested too deep`;
  return object(value, path, {
    TCP: (v, p) => map(v, p, tcpHandler),
    Web: (v, p) => map(v, p, webServer),
    Services: (v, p) => map(v, p, (s, sp) => object(s, sp, { TCP: (t, tp) => map(t, tp, tcpHandler), Web: (w, wp) => map(w, wp, webServer), Tun: "boolean" })),
    AllowFunnel: (v, p) => map(v, p, (b, bp) => (typeof b === "boolean" ? undefined : `${bp} is ${kind(b)}, not a boolean`)),
    Foreground: (v, p) => map(v, p, (c, cp) => serveConfig(c, cp, nesting + 1)),
  });
}

const tcpHandler: Shape = (v, p) => object(v, p, { HTTPS: "boolean", HTTP: "boolean", TCPForward: "string", TerminateTLS: "string", ProxyProtocol: (n, np) => (typeof n === "number" ? undefined : `${np} is ${kind(n)}, not a number`) });
const webServer: Shape = (v, p) => object(v, p, { Handlers: (h, hp) => map(h, hp, (x, xp) => object(x, xp, { Path: "string", Proxy: "string", Text: "string", Redirect: "string" })) });

/** An object (or null) whose known fields have their shapes. */
function object(value: unknown, path: string, shapes: Record<string, Shape>): string | undefined {
  if (value === null) return undefined;
  if (!isObject(value)) return `${path} is ${kind(value)}, not an object`;
  return fields(value, path, shapes);
}

/** A JSON object used as a map (or null): every value has `shape`. */
function map(value: unknown, path: string, shape: Shape): string | undefined {
  if (value === null) return undefined;
  if (!isObject(value)) return `${path} is ${kind(value)}, not an object`;
  for (const [key, entry] of Object.entries(value)) {
    const error = check(entry, `${path}.${key.slice(0, 60)}`, shape);
    if (error) return error;
  }
  return undefined;
}

function fields(value: Record<string, unknown>, path: string, shapes: Record<string, Shape>): string | undefined {
  for (const [name, shape] of Object.entries(shapes)) {
    if (!Object.hasOwn(value, name) || value[name] === undefined) continue;
    const error = check(value[name], `${path}.${name}`, shape);
    if (error) return error;
  }
  return undefined;
}

function check(value: unknown, path: string, shape: Shape): string | undefined {
  if (typeof shape === "function") return shape(value, path);
  if (shape === "strings") {
    if (value === null) return undefined;
    return Array.isArray(value) && value.every((s) => typeof s === "string") ? undefined : `${path} is ${kind(value)}, not a list of strings`;
  }
  return typeof value === shape ? undefined : `${path} is ${kind(value)}, not a ${shape}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return `a ${typeof value}`;
}
