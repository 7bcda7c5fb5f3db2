// Alertmanager routes and inhibitions for the clawfleet alerts. Routing follows
// the layer (who can fix it), grouping too (one page per broken layer, however
// many nodes), and inhibitions mirror the taxonomy's dependencies.
import { formatDuration } from "./durations.ts";

export const RECEIVERS = ["fleet-oncall", "network-owners", "gateway-owners", "tickets"] as const;
export type Receiver = (typeof RECEIVERS)[number];

export interface AlertmanagerOptions {
  /** Where each receiver's webhook posts; the committed file has placeholders. */
  webhookUrl(receiver: Receiver): string;
  /** Notification timing; the end-to-end test shortens it. */
  timing?: { groupWaitSeconds: number; groupIntervalSeconds: number; repeatIntervalSeconds: number; ticketRepeatIntervalSeconds: number };
}

export const PRODUCTION_TIMING = {
  groupWaitSeconds: 30,
  groupIntervalSeconds: 5 * 60,
  repeatIntervalSeconds: 4 * 3600,
  ticketRepeatIntervalSeconds: 24 * 3600,
};

export const PLACEHOLDER_WEBHOOK = (receiver: Receiver) => `https://alerts.example.invalid/clawfleet/${receiver}`;

const SILENT_NODE_ALERTS = 'alertname=~"ClawfleetNode(Unreachable|Asleep)"';

export function alertmanagerConfig(options: AlertmanagerOptions) {
  const t = options.timing ?? PRODUCTION_TIMING;
  return {
    route: {
      // Unreachable nodes (layer fleet) and anything unforeseen land here.
      receiver: "fleet-oncall",
      // By layer, not by node: a fleet-wide tunnel outage is one notification
      // listing every node, not one page per Mac.
      group_by: ["layer"],
      group_wait: formatDuration(t.groupWaitSeconds),
      group_interval: formatDuration(t.groupIntervalSeconds),
      repeat_interval: formatDuration(t.repeatIntervalSeconds),
      routes: [
        { receiver: "network-owners", matchers: ['layer="tunnel"'] },
        // The collector's own alerts: pages to fleet on-call (the default), tickets as tickets.
        { receiver: "tickets", matchers: ['layer="collector"', 'severity="ticket"'] },
        { receiver: "gateway-owners", matchers: ['layer=~"gateway|session|provider"'] },
        {
          receiver: "tickets",
          matchers: ['layer=~"power|drift"'],
          // One ticket per node and layer: each sleeping Mac is its own task.
          group_by: ["layer", "node"],
          repeat_interval: formatDuration(t.ticketRepeatIntervalSeconds),
        },
      ],
    },
    inhibit_rules: [
      {
        // A silent node's last report is stale: the silence is the news.
        source_matchers: [SILENT_NODE_ALERTS],
        target_matchers: ['alertname=~"Clawfleet.+"', 'alertname!~"ClawfleetNode(Unreachable|Asleep)"'],
        equal: ["node"],
      },
      {
        // Most of the fleet gone at once is one page: the per-node pages would only repeat it.
        source_matchers: ['alertname="ClawfleetFleetMostlyUnreachable"'],
        target_matchers: ['alertname="ClawfleetNodeUnreachable"'],
      },
      {
        // No session, provider or tunnel verdict means anything while the gateway is down.
        source_matchers: ['alertname="ClawfleetGatewayDown"'],
        target_matchers: ['layer=~"session|provider|tunnel"'],
        equal: ["node"],
      },
    ],
    receivers: RECEIVERS.map((name) => ({
      name,
      webhook_configs: [{ url: options.webhookUrl(name), send_resolved: true }],
    })),
  };
}
