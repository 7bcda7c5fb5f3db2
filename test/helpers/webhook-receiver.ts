// Stands in for pagers, chat and ticket systems: an HTTP server on loopback
// that records every Alertmanager webhook notification, one path per receiver.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface WebhookAlert {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

/** Alertmanager's webhook payload (version 4), plus when and where it arrived. */
export interface Notification {
  receiver: string;
  status: "firing" | "resolved";
  groupKey: string;
  groupLabels: Record<string, string>;
  alerts: WebhookAlert[];
  path: string;
  receivedAtMs: number;
}

export interface WebhookReceiver {
  url(path: string): string;
  readonly notifications: readonly Notification[];
  /** Resolves with the first notification (already received or still to come) matching `predicate`. */
  waitFor(predicate: (n: Notification) => boolean, timeoutMs: number, what?: string): Promise<Notification>;
  stop(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const notifications: Notification[] = [];
  const listeners = new Set<() => void>();
  const server: Server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      try {
        notifications.push({ ...(JSON.parse(body) as Omit<Notification, "path" | "receivedAtMs">), path: request.url ?? "", receivedAtMs: Date.now() });
        listeners.forEach((l) => l());
        response.writeHead(200).end();
      } catch {
        response.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: (path) => `http://127.0.0.1:${port}/${path}`,
    notifications,
    waitFor(predicate, timeoutMs, what = "a matching notification") {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = notifications.find(predicate);
          if (found) {
            done();
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no webhook with ${what} within ${timeoutMs} ms; received:\n${describe(notifications)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One line per alert in each notification, for failure messages and logs. */
export function describe(notifications: readonly Notification[]): string {
  return notifications
    .map((n) => `${n.receiver} ${n.status}: ${n.alerts.map((a) => `${a.labels.alertname}{node=${a.labels.node},code=${a.labels.code}} ${a.status}`).join(", ")}`)
    .join("\n");
}
