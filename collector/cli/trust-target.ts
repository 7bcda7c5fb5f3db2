// Where `collector enroll` and `collector revoke` find the trust store: pki/
// beside a SQLite --db, or the shared PostgreSQL database a postgres:// --db
// names (any collector's host can make a token or revoke for the whole fleet).
import { dirname, join } from "node:path";
import { dataDir } from "../../shared/paths.ts";
import { certificatePin } from "../../shared/pki/x509.ts";
import { isPostgresUrl } from "../state/pg-connection.ts";
import { CA_KEY_ENV, CA_KEY_FLAG, CaKeyError, readCaKey } from "../pki/ca-key.ts";
import { openTrust, pkiDirFor } from "../pki/collector-security.ts";
import { PgTrustStore } from "../pki/pg-trust-store.ts";
import type { TrustRecords } from "../pki/trust-records.ts";

export const TRUST_TARGET_OPTIONS = {
  db: { type: "string" },
  "db-password-file": { type: "string" },
  "ca-key-file": { type: "string" },
} as const;

export const TRUST_TARGET_HELP = `  --db PATH|URL  the collector's store: a SQLite file (its CA is in pki/ beside it;
                 default <data dir>/collector.db) or postgres://USER@HOST:PORT/DATABASE
                 shared by several collectors (password from PGPASSWORD or --db-password-file)
  --db-password-file PATH  the PostgreSQL password (its first line)
  ${CA_KEY_FLAG} PATH  with a postgres:// --db, the key that seals the fleet CA (or ${CA_KEY_ENV});
                 needed only when no collector has made the CA yet`;

interface TargetValues {
  db?: string;
  "db-password-file"?: string;
  "ca-key-file"?: string;
}

export interface OpenedTrust {
  trust: TrustRecords;
  /** The fleet CA's pin, when `withPin` asked for it. */
  pin?: string;
}

/** Opens the trust store `--db` names; with `withPin`, the CA too (made when this is the first use, as a collector would). */
export async function openTrustTarget(values: TargetValues, withPin: boolean): Promise<OpenedTrust> {
  const db = values.db ?? join(dataDir(), "collector.db");
  if (!isPostgresUrl(db)) {
    const { authority, trust } = await openTrust(pkiDirFor(dirname(db)));
    return { trust, pin: authority.pin };
  }
  const trust = await PgTrustStore.open(db, { passwordFile: values["db-password-file"] });
  try {
    if (!withPin) return { trust };
    const caPem = await trust.caCertificate();
    if (caPem) return { trust, pin: certificatePin(caPem) };
    if (!values["ca-key-file"] && !process.env[CA_KEY_ENV]) {
      throw new CaKeyError(`${trust.description} holds no fleet CA yet: start a collector on it first, or give ${CA_KEY_FLAG} PATH (or ${CA_KEY_ENV}) to make it here`);
    }
    const authority = await trust.authority(readCaKey({ file: values["ca-key-file"] }));
    return { trust, pin: authority.pin };
  } catch (error) {
    await trust.close();
    throw error;
  }
}
