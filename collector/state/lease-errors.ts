// What a collector on a shared store is told about node leases (pg-leases.ts), apart from the
// driver: ingest imports these without loading `pg` on a SQLite collector.

/** The SQLSTATE a report write gets when its collector no longer holds the node's lease (pg-migrations.ts). */
export const LEASE_LOST_SQLSTATE = "CF001";

export class LeaseHeld extends Error {
  readonly holder: string;
  constructor(nodeId: string, holder: string, why = `node ${nodeId} reports to collector ${holder}, which holds its lease`) {
    super(`${why}; try another collector or again later`);
    this.holder = holder;
  }
}

/** A write refused because this collector no longer holds the node's lease (checked in its transaction). */
export function isLeaseLost(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === LEASE_LOST_SQLSTATE;
}
