// Keeps the agent's certificate fresh: renews when a third of its lifetime is
// left (so a collector away for a while is no emergency), retries on failure,
// and hands the new identity to the link, which reconnects with it. The
// certificate builder is loaded only when a renewal is due.
import type { Logger } from "../../shared/log.ts";
import { readIdentity, type StoredIdentity } from "../../shared/pki/identity-files.ts";

const MAX_CHECK_INTERVAL_MS = 3_600_000;
const MIN_CHECK_INTERVAL_MS = 500;

/** When a certificate should be renewed: two thirds into its validity. */
export function renewAtMs(identity: Pick<StoredIdentity, "notBeforeMs" | "notAfterMs">): number {
  return identity.notAfterMs - (identity.notAfterMs - identity.notBeforeMs) / 3;
}

/** `collectors`: where to ask, the one the agent reports to first (any collector of the fleet can renew). */
export function startCertificateRenewal(options: { dir: string; log: Logger; collectors(): string[]; onRenewed(identity: StoredIdentity): void }): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const schedule = (inMs: number) => {
    if (stopped) return;
    timer = setTimeout(check, Math.max(MIN_CHECK_INTERVAL_MS, Math.min(MAX_CHECK_INTERVAL_MS, inMs)));
    timer.unref();
  };

  async function check(): Promise<void> {
    let identity: StoredIdentity | undefined;
    try {
      identity = readIdentity(options.dir);
    } catch (error) {
      options.log.error("cannot read the agent's certificate", { error: (error as Error).message });
      return schedule(60_000);
    }
    if (!identity) return;
    const now = Date.now();
    const due = renewAtMs(identity);
    if (now < due) return schedule(due - now);
    try {
      const { renew } = await import("../../shared/pki/enroll-client.ts");
      const issued = await renew(identity, options.dir, options.collectors());
      const renewed = readIdentity(options.dir)!;
      options.log.info("certificate renewed", { node: issued.name, serial: renewed.serial, notAfter: new Date(renewed.notAfterMs).toISOString() });
      if (!stopped) options.onRenewed(renewed);
      schedule(renewAtMs(renewed) - Date.now());
    } catch (error) {
      const left = identity.notAfterMs - now;
      options.log.warn("certificate renewal failed; retrying", { error: (error as Error).message, expiresInS: Math.round(left / 1000) });
      schedule(Math.max(left / 10, 1000));
    }
  }

  void check();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
