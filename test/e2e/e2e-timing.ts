// How the end-to-end test compresses time. The rules and routes are the
// committed ones (same expressions, matchers, inhibitions); only `for:` and
// Alertmanager's notification timing shrink from minutes to seconds.
import type { AlertName } from "../../deploy/generate/alert-catalog.ts";
import type { CollectorAlertName } from "../../deploy/generate/collector-alerts.ts";

export const E2E_FOR_SECONDS: Record<AlertName, number> = {
  // Longer than a gateway restart takes here (10 s idle, 40 s seen under a
  // loaded suite), as 2m is in production: rotating the token must page for the
  // session only, not for the restart.
  ClawfleetGatewayDown: 60,
  // Longer than an agent's first report takes after it (re)connects: until then
  // the collector still exports the node's last report from before.
  ClawfleetSessionAuthFailing: 5,
  ClawfleetProviderCredentialMissing: 5,
  ClawfleetTunnelDown: 5,
  ClawfleetDrift: 5,
  ClawfleetSleepEnabled: 3,
  ClawfleetNodeUnreachable: 3,
  ClawfleetNodeAsleep: 3,
};

/** The collector's own alerts: the ones the tests provoke run in seconds; the rest keep production's for:, long enough never to fire in a run. */
export const E2E_COLLECTOR_FOR_SECONDS: Partial<Record<CollectorAlertName, number>> = {
  ClawfleetCollectorDown: 2,
  // Before ClawfleetNodeUnreachable (3 s), as 2m is before 3m in production: it inhibits those pages.
  ClawfleetFleetMostlyUnreachable: 1,
};

export const E2E_ALERTMANAGER_TIMING = {
  groupWaitSeconds: 1,
  groupIntervalSeconds: 2,
  repeatIntervalSeconds: 3600,
  ticketRepeatIntervalSeconds: 3600,
};

export const E2E_SCRAPE_SECONDS = 1;
export const E2E_EVALUATION_SECONDS = 1;
