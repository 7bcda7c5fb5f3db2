// Keys, CSRs and certificates. Building them is @peculiar/x509's job (a
// maintained library over WebCrypto, so no ASN.1 is written here); node:crypto's
// X509Certificate parses and verifies. Only commands that enroll, renew or serve
// with TLS load this module.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createHash, X509Certificate, type webcrypto } from "node:crypto";

export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(globalThis.crypto);

/** ECDSA P-256: small keys and signatures, fast handshakes, supported by every TLS stack. */
export const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** Who a certificate speaks for: an agent's node, or a person reading the fleet. */
export const ROLES = ["node", "operator"] as const;
export type Role = (typeof ROLES)[number];

export { COLLECTOR_NAME } from "./collector-channel.ts";

export async function newKeyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey("pkcs8", key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n?$/, "\n")}-----END PRIVATE KEY-----\n`;
}

export async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const body = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(pem);
  if (!body) throw new Error("not a PKCS#8 private key");
  return crypto.subtle.importKey("pkcs8", Buffer.from(body[1]!.replace(/\s/g, ""), "base64"), KEY_ALGORITHM, true, ["sign"]);
}

export function subjectOf(name: string, role: Role): string {
  return `CN=${name}, OU=${role}, O=clawfleet`;
}

/** A CSR for `name`; the collector decides the identity from the token, not from this. */
export async function createCsr(name: string, keys: CryptoKeyPair): Promise<Uint8Array> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${name}`, keys, signingAlgorithm: KEY_ALGORITHM });
  return new Uint8Array(csr.rawData);
}

export interface CsrInfo {
  publicKey: x509.PublicKey;
}

/** Parses and verifies a CSR's self-signature; throws with a reason on anything else. */
export async function readCsr(der: Uint8Array): Promise<CsrInfo> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(der);
  } catch (error) {
    throw new Error(`csr_der is not a PKCS#10 request (${(error as Error).message.slice(0, 80)})`);
  }
  if (csr.publicKey.algorithm.name !== "ECDSA" || (csr.publicKey.algorithm as webcrypto.EcKeyAlgorithm).namedCurve !== "P-256") {
    throw new Error("csr_der: the key must be ECDSA P-256");
  }
  if (!(await csr.verify())) throw new Error("csr_der: signature does not match its key");
  return { publicKey: csr.publicKey };
}

export interface IssueRequest {
  publicKey: x509.PublicKey | CryptoKey;
  subject: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  issuer: x509.X509Certificate;
  issuerKey: CryptoKey;
  /** Extended key usage: client certificates for nodes and operators, server for the collector. */
  usage: "client" | "server";
  dnsNames?: string[];
  ipAddresses?: string[];
}

export async function issueCertificate(request: IssueRequest): Promise<string> {
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([request.usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth], false),
    await x509.AuthorityKeyIdentifierExtension.create(request.issuer, false),
  ];
  const altNames = [...(request.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })), ...(request.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value }))];
  if (altNames.length) extensions.push(new x509.SubjectAlternativeNameExtension(altNames));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: request.serial,
    subject: request.subject,
    issuer: request.issuer.subject,
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    publicKey: request.publicKey,
    signingKey: request.issuerKey,
    signingAlgorithm: KEY_ALGORITHM,
    extensions,
  });
  return certificate.toString("pem") + "\n";
}

export async function createAuthority(name: string, notAfter: Date): Promise<{ certificatePem: string; keyPem: string }> {
  const keys = await newKeyPair();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name,
    notBefore: new Date(Date.now() - 60_000),
    notAfter,
    keys,
    signingAlgorithm: KEY_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificatePem: certificate.toString("pem") + "\n", keyPem: await privateKeyPem(keys.privateKey) };
}

export function parseCertificate(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(pem);
}

/** 16 random bytes, positive (first bit clear), as hex: a serial no one can guess or collide. */
export function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0]! &= 0x7f;
  bytes[0]! |= 0x01;
  return Buffer.from(bytes).toString("hex");
}

/** The pin an enrollment token carries: SHA-256 of the CA certificate (DER), base64url. */
export function certificatePin(pem: string): string {
  return createHash("sha256").update(new X509Certificate(pem).raw).digest("base64url");
}
