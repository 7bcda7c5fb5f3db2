// The trust store's tables in a shared PostgreSQL database, on their own
// migration track (trust_schema_migrations, its own advisory lock) so they
// version apart from the fleet store's (pg-migrations.ts); every name starts
// with trust_. Each entry upgrades by one version, never edited once shipped.
import type { PoolClient } from "pg";
import { PgStoreError } from "../state/pg-connection.ts";

export const TRUST_MIGRATIONS: readonly string[] = [
  `-- The fleet CA: one row, made by whichever collector starts first. The key is sealed (ca-key.ts).
   CREATE TABLE trust_authority (
     id integer PRIMARY KEY CHECK (id = 1),
     certificate_pem text NOT NULL,
     key_kdf text NOT NULL,
     key_salt bytea NOT NULL,
     key_iv bytea NOT NULL,
     key_sealed bytea NOT NULL,
     created_ms bigint NOT NULL
   );
   -- Every write to certificates takes the next revision from this one row and holds its lock until
   -- COMMIT, so revisions become visible in order: a collector that has seen revision R has seen every
   -- revision below it, and catches up with "changed_rev > R".
   CREATE TABLE trust_revision (id integer PRIMARY KEY CHECK (id = 1), revision bigint NOT NULL);
   INSERT INTO trust_revision (id, revision) VALUES (1, 0);
   CREATE TABLE trust_enrollments (
     token_hash text COLLATE "C" PRIMARY KEY,
     name text COLLATE "C" NOT NULL,
     role text COLLATE "C" NOT NULL,
     created_ms bigint NOT NULL,
     expires_ms bigint NOT NULL,
     used_ms bigint
   );
   CREATE INDEX trust_enrollments_name ON trust_enrollments (role, name);
   CREATE TABLE trust_certificates (
     serial text COLLATE "C" PRIMARY KEY,
     name text COLLATE "C" NOT NULL,
     role text COLLATE "C" NOT NULL,
     issued_ms bigint NOT NULL,
     not_after_ms bigint NOT NULL,
     revoked_ms bigint,
     changed_rev bigint NOT NULL
   );
   CREATE INDEX trust_certificates_name ON trust_certificates (role, name);
   CREATE INDEX trust_certificates_changed ON trust_certificates (changed_rev);`,
];

/** Not the fleet store's lock: the two tracks migrate independently. */
const TRUST_MIGRATION_LOCK = 0x636c7472;

export async function migrateTrust(client: PoolClient): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [TRUST_MIGRATION_LOCK]);
    await client.query("CREATE TABLE IF NOT EXISTS trust_schema_migrations (version integer PRIMARY KEY, applied_at_ms bigint NOT NULL)");
    const { rows } = await client.query<{ version: number | null }>("SELECT max(version) AS version FROM trust_schema_migrations");
    const current = rows[0]?.version ?? 0;
    if (current > TRUST_MIGRATIONS.length) {
      throw new PgStoreError(`trust schema version ${current} is newer than this clawfleet (${TRUST_MIGRATIONS.length}); upgrade clawfleet`);
    }
    for (let version = current + 1; version <= TRUST_MIGRATIONS.length; version++) {
      await client.query(TRUST_MIGRATIONS[version - 1]!);
      await client.query("INSERT INTO trust_schema_migrations (version, applied_at_ms) VALUES ($1, $2)", [version, Date.now()]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
