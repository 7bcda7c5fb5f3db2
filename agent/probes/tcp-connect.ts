import { connect } from "node:net";

export type TcpResult = "open" | "refused" | "timeout" | "error";

/** Whether something accepts TCP connections at host:port. */
export function tcpConnect(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<TcpResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, signal });
    const done = (result: TcpResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done("timeout"));
    socket.once("connect", () => done("open"));
    socket.once("error", (error: NodeJS.ErrnoException) => done(error.code === "ECONNREFUSED" ? "refused" : error.name === "AbortError" ? "timeout" : "error"));
  });
}
