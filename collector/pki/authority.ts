// The collector's own certificate authority: created on first start (or first
// `collector enroll`) beside the store, private key 0600, and the collector's
// server certificate it signs. With a shared PostgreSQL store the CA comes from
// the database instead (pg-trust-store.ts) and the server certificate is made
// in memory at each start. Nothing here is ever sent but certificates.
import { X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../../shared/atomic-file.ts";
import { isIP } from "node:net";
import { join } from "node:path";
import {
  certificatePin,
  COLLECTOR_NAME,
  createAuthority,
  importPrivateKey,
  issueCertificate,
  newKeyPair,
  parseCertificate,
  privateKeyPem,
  randomSerial,
  readCsr,
  subjectOf,
  type CryptoKey,
  type Role,
} from "../../shared/pki/x509.ts";

const DAY_MS = 86_400_000;
const CA_LIFETIME_MS = 10 * 365 * DAY_MS;
const SERVER_LIFETIME_MS = 365 * DAY_MS;
/** A server certificate with less than this left is reissued at start. */
const SERVER_RENEW_BEFORE_MS = 30 * DAY_MS;
/** Issued certificates start a little in the past, since a node's clock may lag the collector's; short-lived ones by less, so their holder still sees when to renew. */
const backdateMs = (lifetimeMs: number) => Math.min(5 * 60_000, Math.floor(lifetimeMs / 10));

export interface Issued {
  certificatePem: string;
  serial: string;
  notAfterMs: number;
}

export class Authority {
  readonly caPem: string;
  /** SHA-256 of the CA certificate: enrollment tokens carry it so agents can check whom they enroll with. */
  readonly pin: string;
  readonly serverKeyPem: string;
  readonly serverCertPem: string;
  private readonly caKey: CryptoKey;
  private readonly caCertificate: ReturnType<typeof parseCertificate>;

  private constructor(caPem: string, caKey: CryptoKey, server: { keyPem: string; certPem: string }) {
    this.caPem = caPem;
    this.caKey = caKey;
    this.caCertificate = parseCertificate(caPem);
    this.pin = certificatePin(caPem);
    this.serverKeyPem = server.keyPem;
    this.serverCertPem = server.certPem;
  }

  /** Opens the CA in `dir`, creating it (and the collector's server certificate) when missing. */
  static async open(dir: string): Promise<Authority> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const caCertPath = join(dir, "ca.crt");
    const caKeyPath = join(dir, "ca.key");
    if (!existsSync(caCertPath)) {
      const created = await createAuthority("CN=clawfleet fleet CA, O=clawfleet", new Date(Date.now() + CA_LIFETIME_MS));
      // Key first: a CA certificate without its key would be useless after a crash.
      writePrivate(caKeyPath, created.keyPem);
      writeFileAtomic(caCertPath, created.certificatePem, 0o644);
    }
    const caPem = readPem(caCertPath);
    let caKey: CryptoKey;
    try {
      caKey = await importPrivateKey(readPem(caKeyPath));
    } catch (error) {
      throw new Error(`${caKeyPath}: cannot read the CA key (${(error as Error).message})`);
    }
    const server = await serverCertificate(dir, caPem, caKey);
    return new Authority(caPem, caKey, server);
  }

  /**
   * The CA as a shared store holds it: each collector signs its own server
   * certificate for its own names (and the fleet name agents check), kept in
   * memory only, so no collector's TLS key is at rest anywhere.
   */
  static async fromKey(caPem: string, caKeyPem: string, serverNames: readonly string[] = []): Promise<Authority> {
    const caKey = await importPrivateKey(caKeyPem);
    return new Authority(caPem, caKey, await issueServerCertificate(caPem, caKey, serverNames));
  }

  /** Signs a CSR for `name` in `role`; the identity comes from the caller (a redeemed token or the current certificate), never from the CSR. */
  async issue(csrDer: Uint8Array, name: string, role: Role, lifetimeMs: number, nowMs = Date.now()): Promise<Issued> {
    const csr = await readCsr(csrDer);
    const serial = randomSerial();
    const notAfterMs = nowMs + lifetimeMs;
    const certificatePem = await issueCertificate({
      publicKey: csr.publicKey,
      subject: subjectOf(name, role),
      serial,
      notBefore: new Date(nowMs - backdateMs(lifetimeMs)),
      notAfter: new Date(notAfterMs),
      issuer: this.caCertificate,
      issuerKey: this.caKey,
      usage: "client",
    });
    return { certificatePem, serial: normalizeSerial(serial), notAfterMs };
  }
}

/** Node prints serials as upper-case hex without leading zeros; keep one form everywhere. */
export function normalizeSerial(serial: string): string {
  return serial.replace(/^0+/, "").toUpperCase();
}

async function serverCertificate(dir: string, caPem: string, caKey: CryptoKey): Promise<{ keyPem: string; certPem: string }> {
  const keyPath = join(dir, "collector.key");
  const certPath = join(dir, "collector.crt");
  if (existsSync(certPath) && existsSync(keyPath)) {
    const current = new X509Certificate(readPem(certPath));
    const issuedByCa = current.checkIssued(new X509Certificate(caPem)) && current.verify(new X509Certificate(caPem).publicKey);
    if (issuedByCa && Date.parse(current.validTo) - Date.now() > SERVER_RENEW_BEFORE_MS) return { keyPem: readPem(keyPath), certPem: readPem(certPath) };
  }
  const { keyPem, certPem } = await issueServerCertificate(caPem, caKey, []);
  writePrivate(keyPath, keyPem);
  writeFileAtomic(certPath, certPem, 0o644);
  return { keyPem, certPem };
}

/** A server certificate for the fleet name (what agents check) and `names` (DNS names or IP addresses). */
async function issueServerCertificate(caPem: string, caKey: CryptoKey, names: readonly string[]): Promise<{ keyPem: string; certPem: string }> {
  const keys = await newKeyPair();
  const unique = [...new Set([COLLECTOR_NAME, ...names])];
  const certPem = await issueCertificate({
    publicKey: keys.publicKey,
    subject: "CN=clawfleet collector, O=clawfleet",
    serial: randomSerial(),
    notBefore: new Date(Date.now() - backdateMs(SERVER_LIFETIME_MS)),
    notAfter: new Date(Date.now() + SERVER_LIFETIME_MS),
    issuer: parseCertificate(caPem),
    issuerKey: caKey,
    usage: "server",
    dnsNames: unique.filter((name) => isIP(name) === 0),
    ipAddresses: unique.filter((name) => isIP(name) !== 0),
  });
  return { keyPem: await privateKeyPem(keys.privateKey), certPem };
}

function readPem(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`${path}: cannot read (${(error as Error).message})`);
  }
}

function writePrivate(path: string, text: string): void {
  writeFileAtomic(path, text, 0o600);
}
