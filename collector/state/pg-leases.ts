// Several collectors on one PostgreSQL: who holds which node's stream, and who leads.
//
// - Presence: each collector holds a session advisory lock (PRESENCE_LOCK_CLASS, its key) on a
//   connection of its own for as long as its process lives. A killed collector's socket closes,
//   PostgreSQL drops the lock at once, and its leases count as free from then on.
// - Node leases (table node_leases, migration 2): taken at hello, renewed every third of the TTL,
//   released at stream end. A lease is live while it has not expired (server clock, so collectors'
//   clocks never matter) and its holder is present; a hung or cut-off collector's leases lapse
//   with the TTL. The report write itself checks the lease (pg-migrations.ts), so a collector
//   that lost one cannot write for that node even before it notices.
// - Leader: whoever holds the leader advisory lock on its presence connection; a standby tries
//   again at every refresh, so a dead leader is replaced within one refresh interval.
import { randomInt } from "node:crypto";
import pg from "pg";
import { type PasswordSource, postgresTarget, type PgTarget, storeError } from "./pg-connection.ts";
import { PRESENCE_LOCK_CLASS } from "./pg-migrations.ts";
import { LeaseHeld } from "./lease-errors.ts";

export { isLeaseLost, LeaseHeld } from "./lease-errors.ts";

/** The leader lock: one key every clawfleet collector agrees on ("lead"). */
const LEADER_LOCK = 0x6c656164;
const COLLECTOR_ID = /^[A-Za-z0-9._:-]{1,63}$/;
const TAKE_LOCK_TIMEOUT_MS = 2000;
/** PostgreSQL's lock_not_available: a lock_timeout passed. */
const LOCK_NOT_AVAILABLE = "55P03";

export interface CoordinatorOptions extends PasswordSource {
  collectorId: string;
  /** How long a lease lives without renewal: the window within which a hung collector's nodes are free again. */
  leaseTtlMs: number;
  onConnectionError?: (message: string) => void;
}

export class PgCoordinator {
  readonly collectorId: string;
  readonly leaseTtlMs: number;
  private readonly target: PgTarget;
  private readonly pool: pg.Pool;
  private presence: pg.Client;
  private presenceKey = 0;
  private leading = false;
  private closed = false;

  private constructor(target: PgTarget, options: CoordinatorOptions) {
    this.target = target;
    this.collectorId = options.collectorId;
    this.leaseTtlMs = options.leaseTtlMs;
    // A take waits for a node's row lock no longer than this: a hung holder mid-commit is ended by the server
    // (idle_in_transaction_session_timeout, pg-store.ts), and the agent is told to come back meanwhile.
    this.pool = new pg.Pool({ ...target.config, max: 2, options: `-c lock_timeout=${TAKE_LOCK_TIMEOUT_MS}` });
    this.pool.on("error", (error) => options.onConnectionError?.(storeError(target, error, "connection lost").message));
    this.presence = new pg.Client(target.config);
  }

  /** Connects and takes this collector's presence lock (the store's migrations must have run: PgStore.open). */
  static async start(db: string, options: CoordinatorOptions): Promise<PgCoordinator> {
    if (!COLLECTOR_ID.test(options.collectorId)) throw new Error(`collector id "${options.collectorId.slice(0, 80)}" must match ${COLLECTOR_ID}`);
    const coordinator = new PgCoordinator(postgresTarget(db, options), options);
    try {
      await coordinator.connectPresence(options.onConnectionError);
    } catch (error) {
      await coordinator.close();
      throw storeError(coordinator.target, error, "cannot join the collectors on this database");
    }
    return coordinator;
  }

  private async connectPresence(onError?: (message: string) => void): Promise<void> {
    const client = new pg.Client(this.target.config);
    client.on("error", (error) => {
      // Presence gone: every lease of ours is free for others now. Leases are renewed under a new key on reconnect.
      // Only the live presence rejoins: a client that never got the lock failed its connectPresence, which retries.
      if (this.presence !== client) return;
      this.leading = false;
      onError?.(storeError(this.target, error, "presence connection lost").message);
      this.rejoin(onError, 1000);
    });
    await client.connect();
    // A key no live collector has (a random one, tried until free).
    for (;;) {
      const key = randomInt(1, 2 ** 31 - 1);
      const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS ok", [PRESENCE_LOCK_CLASS, key]);
      if (rows[0]!.ok) {
        this.presence = client;
        this.presenceKey = key;
        return;
      }
    }
  }

  /** Takes presence again after `delayMs`, and on until it succeeds (1 s doubling to 30 s): without it other collectors take every node. */
  private rejoin(onError: ((message: string) => void) | undefined, delayMs: number): void {
    if (this.closed) return;
    setTimeout(() => {
      if (this.closed) return;
      this.connectPresence(onError).catch((error) => {
        onError?.(storeError(this.target, error, `cannot rejoin the collectors (its nodes go to others meanwhile); retrying in ${Math.min(delayMs * 2, 30_000) / 1000} s`).message);
        this.rejoin(onError, Math.min(delayMs * 2, 30_000));
      });
    }, delayMs).unref();
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Takes the leader lock if nobody holds it; true while this collector leads. */
  async tryLead(): Promise<boolean> {
    if (this.leading || this.closed) return this.leading;
    try {
      const { rows } = await this.presence.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [LEADER_LOCK]);
      this.leading = rows[0]!.ok;
    } catch {
      this.leading = false;
    }
    return this.leading;
  }

  /** Takes the node's lease, or refuses with LeaseHeld naming the live collector that has it. */
  async take(nodeId: string): Promise<void> {
    const { rows } = await this.query<{ collector: string }>(
      `INSERT INTO node_leases AS l (node_id, collector, presence, expires_at) VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')
       ON CONFLICT (node_id) DO UPDATE SET collector = excluded.collector, presence = excluded.presence, expires_at = excluded.expires_at
         WHERE l.collector = excluded.collector OR l.expires_at <= now() OR NOT clawfleet_collector_alive(l.presence)
       RETURNING collector`,
      [nodeId, this.collectorId, this.presenceKey, this.leaseTtlMs],
    ).catch((error: { code?: string }) => {
      if (error.code === LOCK_NOT_AVAILABLE) throw new LeaseHeld(nodeId, "?", `node ${nodeId}'s lease is locked by a collector that does not answer`);
      throw error;
    });
    if (rows.length > 0) return;
    const { rows: held } = await this.query<{ collector: string }>("SELECT collector FROM node_leases WHERE node_id = $1", [nodeId]);
    throw new LeaseHeld(nodeId, held[0]?.collector ?? "another collector");
  }

  /** Extends the leases of these nodes; returns the ones this collector no longer holds. */
  async renew(nodeIds: readonly string[]): Promise<string[]> {
    if (nodeIds.length === 0) return [];
    const { rows } = await this.query<{ node_id: string }>(
      `UPDATE node_leases SET expires_at = now() + $3 * interval '1 millisecond', presence = $4
       WHERE collector = $1 AND node_id = ANY($2::text[]) AND expires_at > now() RETURNING node_id`,
      [this.collectorId, nodeIds, this.leaseTtlMs, this.presenceKey],
    );
    const kept = new Set(rows.map((r) => r.node_id));
    return nodeIds.filter((id) => !kept.has(id));
  }

  async release(nodeId: string): Promise<void> {
    await this.query("DELETE FROM node_leases WHERE node_id = $1 AND collector = $2", [nodeId, this.collectorId]);
  }

  /** Every live lease: node id → the collector holding it. */
  async holders(): Promise<Map<string, string>> {
    const { rows } = await this.query<{ node_id: string; collector: string }>(
      "SELECT node_id, collector FROM node_leases WHERE expires_at > now() AND clawfleet_collector_alive(presence)",
    );
    return new Map(rows.map((r) => [r.node_id, r.collector]));
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (error) {
      throw storeError(this.target, error);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.leading = false;
    await Promise.all([this.pool.end().catch(() => undefined), this.presence.end().catch(() => undefined)]);
  }
}
