// The key that seals the fleet CA's private key when the CA lives in a shared
// PostgreSQL database: every collector on that database is given the same one,
// in a 0600 file (--ca-key-file) or the environment, never on the command line.
// The database holds only the sealed key (AES-256-GCM under a scrypt-derived
// key, bound to the CA certificate), so a copy of the database alone signs
// nothing. Errors name the flag and the file, never the key.
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { promisify } from "node:util";

export const CA_KEY_FLAG = "--ca-key-file";
export const CA_KEY_ENV = "CLAWFLEET_CA_KEY";
/** `openssl rand -base64 32` prints 44 characters; a shorter key is a password someone chose. */
const MIN_KEY_CHARS = 32;
const MAKE_ONE = `make one with \`umask 077; openssl rand -base64 32 > /etc/clawfleet/ca-key\` and give every collector on this database the same file`;

export class CaKeyError extends Error {}

/** Where the sealing key comes from: the flag's file, else the environment variable. */
export interface CaKeySource {
  file?: string;
  env?: NodeJS.ProcessEnv;
}

/** The sealing key's text, held only to derive the AES key; its origin names it in errors. */
export interface CaKey {
  readonly secret: Buffer;
  readonly origin: string;
}

export function readCaKey(source: CaKeySource): CaKey {
  if (source.file) return { secret: readKeyFile(source.file), origin: `${CA_KEY_FLAG} ${source.file}` };
  const fromEnv = (source.env ?? process.env)[CA_KEY_ENV];
  if (fromEnv) return { secret: checkedKey(Buffer.from(fromEnv.trim()), CA_KEY_ENV), origin: CA_KEY_ENV };
  throw new CaKeyError(
    `a postgres:// --db keeps the fleet CA in the database with its private key encrypted: give the key with ${CA_KEY_FLAG} PATH (mode 0600) or ${CA_KEY_ENV}; ${MAKE_ONE}`,
  );
}

function readKeyFile(path: string): Buffer {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    throw new CaKeyError(`${CA_KEY_FLAG} ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? "unreadable"}); ${MAKE_ONE}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new CaKeyError(`${CA_KEY_FLAG} ${path}: readable by other users (mode 0${(mode & 0o777).toString(8)}); it unlocks the fleet CA: chmod 600 ${path}`);
  }
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (error) {
    throw new CaKeyError(`${CA_KEY_FLAG} ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
  }
  return checkedKey(trimTrailingNewlines(text), `${CA_KEY_FLAG} ${path}`);
}

function trimTrailingNewlines(bytes: Buffer): Buffer {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  return bytes.subarray(0, end);
}

function checkedKey(secret: Buffer, origin: string): Buffer {
  if (secret.length < MIN_KEY_CHARS) throw new CaKeyError(`${origin}: the key is too short (${secret.length} bytes, at least ${MIN_KEY_CHARS}); ${MAKE_ONE}`);
  return secret;
}

/** scrypt's cost: ~100 ms once per start, so a weak key is not cheap to guess from a stolen database. */
const KDF = { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const KDF_NAME = `scrypt-N${KDF.N}-r${KDF.r}-p${KDF.p}+aes-256-gcm`;
const deriveKey = promisify(scrypt) as (secret: Buffer, salt: Buffer, length: number, options: typeof KDF) => Promise<Buffer>;

/** The CA key as stored: everything but the sealing key. */
export interface SealedKey {
  kdf: string;
  salt: Buffer;
  iv: Buffer;
  /** Ciphertext, then the 16-byte GCM tag. */
  sealed: Buffer;
}

/** The sealed key is bound to its CA certificate: a sealed key moved beside another certificate does not open. */
const aad = (caPin: string) => Buffer.from(`clawfleet fleet CA key for ${caPin}`);

export async function sealCaKey(key: CaKey, keyPem: string, caPin: string): Promise<SealedKey> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", await deriveKey(key.secret, salt, 32, KDF), iv);
  cipher.setAAD(aad(caPin));
  const sealed = Buffer.concat([cipher.update(keyPem, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return { kdf: KDF_NAME, salt, iv, sealed };
}

/** The CA key's PEM; a wrong sealing key fails GCM's check and says which key to give. */
export async function openCaKey(key: CaKey, stored: SealedKey, caPin: string, where: string): Promise<string> {
  if (stored.kdf !== KDF_NAME) throw new CaKeyError(`${where}: the fleet CA key is sealed with ${stored.kdf}, which this clawfleet does not know; upgrade clawfleet`);
  const decipher = createDecipheriv("aes-256-gcm", await deriveKey(key.secret, stored.salt, 32, KDF), stored.iv);
  decipher.setAAD(aad(caPin));
  decipher.setAuthTag(stored.sealed.subarray(-16));
  try {
    return Buffer.concat([decipher.update(stored.sealed.subarray(0, -16)), decipher.final()]).toString("utf8");
  } catch {
    throw new CaKeyError(
      `${key.origin}: this key does not open the fleet CA key stored in ${where}; the first collector on this database sealed it with another key: give every collector that same key`,
    );
  }
}
