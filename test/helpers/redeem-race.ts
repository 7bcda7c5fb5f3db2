// One side of a token race, as its own process (pg-trust.test.ts starts two):
// opens the trust store on the database named in REDEEM_DB (password in
// PGPASSWORD), says "ready", waits for SIGUSR2 (sent to both sides at once), redeems every token in
// REDEEM_SECRETS at once (last first with REDEEM_REVERSE=1, so two sides meet
// in the middle) and prints each outcome in the given order, one JSON array on stdout.
import { PgTrustStore } from "../../collector/pki/pg-trust-store.ts";

const db = process.env.REDEEM_DB!;
const secrets = JSON.parse(process.env.REDEEM_SECRETS!) as string[];

const go = new Promise((resolve) => process.once("SIGUSR2", resolve));
const store = await PgTrustStore.open(db, { env: process.env });
try {
  // Connected, its pool warm: what follows races on the server, not on start-up.
  await store.redeem("warm-up");
  process.stderr.write("ready\n");
  await go;
  const order = process.env.REDEEM_REVERSE === "1" ? [...secrets].reverse() : secrets;
  const outcomes = new Map(await Promise.all(order.map(async (secret) => [secret, await store.redeem(secret)] as const)));
  process.stdout.write(`${JSON.stringify(secrets.map((secret) => outcomes.get(secret)!).map((o) => (typeof o === "string" ? o : o.name)))}\n`);
} finally {
  await store.close();
}
