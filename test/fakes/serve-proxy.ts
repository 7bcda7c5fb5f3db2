// A TLS reverse proxy on its own loopback address standing in for Tailscale
// Serve (ipn/ipnlocal/serve.go reverseProxy) in front of the real gateway:
// it terminates TLS, keeps the client's Host (`r.Out.Host = r.In.Host`) and
// forwards HTTP and WebSocket upgrades. Variants reproduce what goes wrong on
// real paths; only header *names* are recorded, never values (tokens).
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { createServer, type Server } from "node:https";
import type { Socket } from "node:net";
import { STATUS_CODES } from "node:http";
import type { TestCert } from "../helpers/tls.ts";

export type ProxyVariant =
  /** Forwards everything as received, adds nothing. */
  | "faithful"
  /** Drops Authorization (a proxy configured to strip credentials). */
  | "strip-authorization"
  /** Adds X-Forwarded-For/Proto/Host exactly as Serve's addProxyForwardedHeaders does. */
  | "forwarding-headers"
  /** Passes requests on without Upgrade/Connection (nginx without `proxy_set_header Upgrade`). */
  | "block-websocket"
  /** Presents a self-signed certificate no one trusts. */
  | "untrusted-cert"
  /** Presents a CA-signed certificate for another name. */
  | "wrong-name-cert";

export interface ServeProxyCerts {
  trusted: TestCert;
  untrusted: TestCert;
  wrongName: TestCert;
}

export interface ServeProxyOptions {
  host: string;
  upstreamPort: number;
  certs: ServeProxyCerts;
  /** X-Forwarded-For in the forwarding-headers variant: the tailnet address of the client, as Serve sends it. */
  forwardedFor?: string;
}

export interface ForwardedRequest {
  method: string;
  path: string;
  upgrade: boolean;
  headerNames: string[];
}

export interface ServeProxy {
  host: string;
  port: number;
  url: string;
  variant: ProxyVariant;
  setVariant(variant: ProxyVariant): void;
  /** What reached the gateway, newest last. */
  forwarded: ForwardedRequest[];
  stop(): Promise<void>;
  /** Listens again on the same address and port. */
  start(): Promise<void>;
}

const UPSTREAM_HOST = "127.0.0.1";
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"];

export async function startServeProxy(options: ServeProxyOptions): Promise<ServeProxy> {
  let variant: ProxyVariant = "faithful";
  const forwarded: ForwardedRequest[] = [];
  const sockets = new Set<Socket>();
  const certFor = (v: ProxyVariant) => (v === "untrusted-cert" ? options.certs.untrusted : v === "wrong-name-cert" ? options.certs.wrongName : options.certs.trusted);

  const rewrite = (incoming: IncomingHttpHeaders, socket: Socket, keepUpgrade: boolean): OutgoingHttpHeaders => {
    const out: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(incoming)) {
      if (value === undefined) continue;
      if (!keepUpgrade && (HOP_BY_HOP.includes(name) || name.startsWith("sec-websocket-"))) continue;
      out[name] = value;
    }
    if (variant === "strip-authorization") delete out.authorization;
    if (variant === "forwarding-headers") {
      out["x-forwarded-host"] = incoming.host ?? "";
      out["x-forwarded-proto"] = "https";
      out["x-forwarded-for"] = options.forwardedFor ?? socket.remoteAddress ?? "";
    }
    return out;
  };
  const record = (req: IncomingMessage, headers: OutgoingHttpHeaders, upgrade: boolean) =>
    forwarded.push({ method: req.method ?? "", path: req.url ?? "", upgrade, headerNames: Object.keys(headers).sort() });

  const server: Server = createServer({ cert: options.certs.trusted.cert, key: options.certs.trusted.key });
  server.on("secureConnection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("request", (req, res) => {
    const headers = rewrite(req.headers, req.socket, false);
    record(req, headers, false);
    const upstream = httpRequest({ host: UPSTREAM_HOST, port: options.upstreamPort, method: req.method, path: req.url, headers }, (upRes) => {
      const out = Object.fromEntries(Object.entries(upRes.headers).filter(([name]) => !HOP_BY_HOP.includes(name)));
      res.writeHead(upRes.statusCode ?? 502, out);
      upRes.pipe(res);
    });
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end("bad gateway\n");
    });
    req.pipe(upstream);
  });
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const passUpgrade = variant !== "block-websocket";
    const headers = rewrite(req.headers, socket, passUpgrade);
    record(req, headers, passUpgrade);
    socket.on("error", () => socket.destroy());
    const upstream = httpRequest({ host: UPSTREAM_HOST, port: options.upstreamPort, method: req.method, path: req.url, headers });
    upstream.on("upgrade", (upRes, upSocket, upHead) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\n${rawHeaderLines(upRes.rawHeaders)}\r\n`);
      if (upHead.length > 0) socket.write(upHead);
      if (head.length > 0) upSocket.write(head);
      upSocket.on("error", () => socket.destroy());
      socket.on("close", () => upSocket.destroy());
      upSocket.on("close", () => socket.destroy());
      upSocket.pipe(socket);
      socket.pipe(upSocket);
    });
    // Refused upgrades (403 from the gateway) and, when blocking, the plain
    // answer to a request stripped of Upgrade go back as an ordinary response.
    upstream.on("response", (upRes) => {
      const chunks: Buffer[] = [];
      upRes.on("data", (c: Buffer) => chunks.push(c));
      upRes.on("end", () => {
        const body = Buffer.concat(chunks);
        const lines = Object.entries(upRes.headers)
          .filter(([name]) => !HOP_BY_HOP.includes(name) && name !== "content-length")
          .map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(", ") : value}\r\n`)
          .join("");
        const status = upRes.statusCode ?? 502;
        socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n${lines}content-length: ${body.length}\r\nconnection: close\r\n\r\n`), body]));
      });
    });
    upstream.on("error", () => socket.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"));
    upstream.end();
  });

  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, options.host, () => {
        server.off("error", reject);
        port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  await listen();

  const proxy: ServeProxy = {
    host: options.host,
    port,
    url: `https://${options.host}:${port}`,
    get variant() {
      return variant;
    },
    setVariant(next) {
      variant = next;
      const cert = certFor(next);
      server.setSecureContext({ cert: cert.cert, key: cert.key });
    },
    forwarded,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await closed;
    },
    start: listen,
  };
  return proxy;
}

function rawHeaderLines(raw: string[]): string {
  let out = "";
  for (let i = 0; i + 1 < raw.length; i += 2) out += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return out;
}
