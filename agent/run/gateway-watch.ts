// Between runs, a cheap look at the gateway every second, so that it going
// away or coming back is checked at once instead of at the next interval (30 s
// by default): the difference between a page now and a page half a minute late.
// Going away: signal 0 to the pid the last run found listening (no process
// started, nothing read). Coming back: when the last run found nothing
// listening, a TCP connect to 127.0.0.1:port, and an edge only when a refused
// connect is followed by an accepted one (a listener the run could not see,
// e.g. another user's socket lsof hides, is not "coming back" every second).
// Only an edge triggers a run, once per run; the run decides what it means.
import type { PortOwner } from "../discovery/live-gateway.ts";
import { tcpConnect } from "../probes/tcp-connect.ts";

export const GATEWAY_WATCH_MS = 1000;
/** A connect to loopback answers at once; one that does not is not a gateway coming back. */
const CONNECT_TIMEOUT_MS = 500;

interface Watched {
  port: number;
  /** The listener's pid, when the run could see it (another user's process it cannot). */
  pid?: number;
  listening: boolean;
  /** A connect was refused since the run: the port is really closed, so an accepted one is an edge. */
  refusedSince?: boolean;
}

export class GatewayWatch {
  private watched?: Watched;
  private timer?: NodeJS.Timeout;
  private connecting = false;

  private readonly onEdge: (reason: string) => void;
  private readonly everyMs: number;

  constructor(onEdge: (reason: string) => void, everyMs = GATEWAY_WATCH_MS) {
    this.onEdge = onEdge;
    this.everyMs = everyMs;
  }

  /** What the last run saw at the gateway's port; `undefined` owner (not observed) stops watching until the next run. */
  observe(port: number, owner: PortOwner | undefined): void {
    this.watched = owner ? { port, pid: owner.pid, listening: owner.listenAddresses.length > 0 } : undefined;
  }

  start(): void {
    this.timer = setInterval(() => this.look(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.watched = undefined;
  }

  private look(): void {
    const watched = this.watched;
    if (!watched || this.connecting) return;
    if (watched.listening) {
      if (watched.pid === undefined || isAlive(watched.pid)) return;
      this.edge(watched, `gateway pid ${watched.pid} exited`);
      return;
    }
    this.connecting = true;
    void tcpConnect("127.0.0.1", watched.port, CONNECT_TIMEOUT_MS).then((result) => {
      this.connecting = false;
      if (this.watched !== watched) return;
      if (result === "open" && watched.refusedSince) this.edge(watched, `something listens on port ${watched.port} again`);
      else if (result === "refused") watched.refusedSince = true;
    });
  }

  private edge(watched: Watched, reason: string): void {
    if (this.watched !== watched) return;
    // One edge per run: the run it triggers observes afresh.
    this.watched = undefined;
    this.onEdge(reason);
  }
}

/** Signal 0 checks existence only; EPERM means it exists under another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
