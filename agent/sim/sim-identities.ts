// Certificates for simulated nodes, minted with the CA of a collector on this
// host (its pki/ directory, as `collector enroll` reads it) and recorded in its
// trust store, so each simulated node authenticates exactly as an enrolled
// agent does and `collector revoke sim-0001` works on it. Enrollment tokens
// are one per node; minting here spares N round trips and N tokens. One key
// pair serves every certificate of a run: the collector authenticates the
// certificate (name, serial), and N P-256 keys would only cost time.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { openTrust } from "../../collector/pki/collector-security.ts";
import { fetchPinnedCa } from "../../shared/pki/enroll-client.ts";
import { createCsr, newKeyPair, privateKeyPem } from "../../shared/pki/x509.ts";

export interface SimIdentity {
  caPem: string;
  keyPem: string;
  certificatePem: string;
}

export class SimIdentityError extends Error {}

/**
 * Mints one node certificate per name, after checking that a collector of
 * `addresses` (the first that answers) holds this CA (else every handshake
 * would fail, node by node). The fleet's collectors share one CA.
 */
export async function mintIdentities(options: { pkiDir: string; addresses: { host: string; port: number }[]; names: readonly string[]; lifetimeMs: number }): Promise<Map<string, SimIdentity>> {
  if (!existsSync(join(options.pkiDir, "ca.key"))) {
    throw new SimIdentityError(`no collector CA in ${options.pkiDir}: point --db at the store of a collector on this host (its CA is in pki/ beside it), or use --insecure for a collector started with --insecure`);
  }
  const { authority, trust } = await openTrust(options.pkiDir);
  try {
    const failures: string[] = [];
    for (const { host, port } of options.addresses) {
      try {
        await fetchPinnedCa(host, port, authority.pin, 5000);
        failures.length = 0;
        break;
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    if (failures.length > 0) throw new SimIdentityError(`${failures.join("; ")} (the CA in ${options.pkiDir})`);
    const keys = await newKeyPair();
    const keyPem = await privateKeyPem(keys.privateKey);
    const csr = await createCsr("sim", keys);
    const identities = new Map<string, SimIdentity>();
    for (const name of options.names) {
      const issued = await authority.issue(csr, name, "node", options.lifetimeMs);
      trust.recordCertificate({ serial: issued.serial, name, role: "node", issuedMs: Date.now(), notAfterMs: issued.notAfterMs });
      identities.set(name, { caPem: authority.caPem, keyPem, certificatePem: issued.certificatePem });
    }
    return identities;
  } finally {
    trust.close();
  }
}
