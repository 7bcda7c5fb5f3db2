// A simulated node must never speak for a real one: with mTLS it would get a
// certificate in that node's name, and either way its hello would mark the
// real node simulated. The collector's store says which ids are real hosts.
import { existsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";

/** Ids among `ids` that the store at `dbPath` holds as real (not simulated) nodes; none when there is no store yet. */
export function realNodesAmong(dbPath: string, ids: readonly string[]): string[] {
  if (!existsSync(dbPath)) return [];
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const columns = db.prepare("SELECT name FROM pragma_table_info('nodes')").all() as { name: string }[];
    if (columns.length === 0) return [];
    // A store from before migration 3 has only real nodes.
    const hasFlag = columns.some((c) => c.name === "simulated");
    const rows = db.prepare(`SELECT node_id FROM nodes${hasFlag ? " WHERE simulated = 0" : ""}`).all() as { node_id: string }[];
    const wanted = new Set(ids);
    return rows.map((r) => r.node_id).filter((id) => wanted.has(id));
  } finally {
    db.close();
  }
}
