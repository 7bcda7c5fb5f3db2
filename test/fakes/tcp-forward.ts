// A raw TCP forwarder on a loopback port standing in for a Serve TCP forward
// (`tailscale serve --tcp <port> <gateway port>`: TCPPortHandler.TCPForward,
// ipn/ipnlocal/serve.go tcpHandlerForServe): bytes are piped to the gateway
// untouched, no TLS, no headers added, and the gateway sees the connection
// come from 127.0.0.1 as it does from tailscaled.
import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpForward {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  stop(): Promise<void>;
}

export interface TcpForwardOptions {
  upstreamPort: number;
  host?: string;
  /** `--proxy-protocol 1`: a PROXY v1 line sent upstream before the client's bytes (ipn/ipnlocal/serve.go with go-proxyproto). */
  proxyProtocolV1?: boolean;
}

export async function startTcpForward(options: TcpForwardOptions): Promise<TcpForward> {
  const host = options.host ?? "127.0.0.1";
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const server: Server = createServer((client) => {
    state.connections++;
    const upstream = connect(options.upstreamPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => { client.destroy(); upstream.destroy(); });
    }
    // The client's tailnet address as tailscaled would report it.
    if (options.proxyProtocolV1) upstream.write(`PROXY TCP4 100.101.102.104 100.101.102.103 ${40000 + state.connections} 443\r\n`);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("tcp forward: no port");
  return {
    port: address.port,
    get connections() { return state.connections; },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
