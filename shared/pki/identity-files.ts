// An enrolled identity on disk: the private key and its certificate in one file
// (0600, replaced atomically, so a crash never pairs a key with the wrong
// certificate), the fleet CA, and the collector address it was enrolled with.
// Agents keep theirs in the agent state dir, operators in <data dir>/operator.
import { X509Certificate } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../atomic-file.ts";
import { join } from "node:path";
import { dataDir } from "../paths.ts";

export interface StoredIdentity {
  keyPem: string;
  certificatePem: string;
  caPem: string;
  collector: string;
  /** From the certificate: CN and OU. */
  name: string;
  role: string;
  notBeforeMs: number;
  notAfterMs: number;
  serial: string;
}

export const identityDir = (base: string) => join(base, "identity");

/** Where an operator's certificate lives (`collector login` writes it, `collector query` reads it). */
export const operatorIdentityDir = () => identityDir(join(dataDir(), "operator"));

export class IdentityError extends Error {}

/** The identity in `dir`, undefined when none was ever enrolled there; a broken one is an IdentityError naming the file. */
export function readIdentity(dir: string): StoredIdentity | undefined {
  const identityPath = join(dir, "identity.pem");
  let bundle: string;
  try {
    bundle = readFileSync(identityPath, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new IdentityError(`${identityPath}: cannot read (${(error as Error).message})`);
  }
  const keyPem = /-----BEGIN PRIVATE KEY-----[^-]+-----END PRIVATE KEY-----\n?/.exec(bundle)?.[0];
  const certificatePem = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/.exec(bundle)?.[0];
  if (!keyPem || !certificatePem) throw new IdentityError(`${identityPath}: expected a private key and a certificate; enroll again`);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch (error) {
    throw new IdentityError(`${identityPath}: the certificate does not parse (${(error as Error).message}); enroll again`);
  }
  const read = (name: string) => {
    try {
      return readFileSync(join(dir, name), "utf8");
    } catch (error) {
      throw new IdentityError(`${join(dir, name)}: cannot read (${(error as Error).message}); enroll again`);
    }
  };
  const subject = Object.fromEntries(certificate.subject.split("\n").map((line) => line.split("=") as [string, string]));
  return {
    keyPem,
    certificatePem,
    caPem: read("ca.pem"),
    collector: read("collector").trim(),
    name: subject.CN ?? "",
    role: subject.OU ?? "",
    notBeforeMs: Date.parse(certificate.validFrom),
    notAfterMs: Date.parse(certificate.validTo),
    serial: certificate.serialNumber,
  };
}

export function writeIdentity(dir: string, identity: { keyPem: string; certificatePem: string; caPem: string; collector: string }): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  writeFileAtomic(join(dir, "ca.pem"), identity.caPem, 0o644);
  writeFileAtomic(join(dir, "collector"), `${identity.collector}\n`, 0o644);
  writeFileAtomic(join(dir, "identity.pem"), identity.keyPem + identity.certificatePem, 0o600);
}
