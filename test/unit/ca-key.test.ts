// Sealing the fleet CA key for a shared database: a round trip with the same
// key, refusals (with the key's origin, never the key) for another key, a
// sealed key moved beside another CA certificate, or tampered bytes; and where
// the key may come from.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CaKeyError, openCaKey, readCaKey, sealCaKey } from "../../collector/pki/ca-key.ts";

const dir = mkdtempSync(join(tmpdir(), "clawfleet-cakey-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = "s".repeat(20) + "0123456789abcdefghijklmnop";
const PEM = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";

describe("CA key sealing", () => {
  it("opens with the key it was sealed with, bound to its CA certificate", async () => {
    const key = readCaKey({ env: { CLAWFLEET_CA_KEY: `${SECRET}\n` } });
    expect(key.origin).toBe("CLAWFLEET_CA_KEY");
    const sealed = await sealCaKey(key, PEM, "pin-a");
    expect(sealed.sealed.includes(Buffer.from("PRIVATE KEY"))).toBe(false);
    expect(await openCaKey(key, sealed, "pin-a", "db")).toBe(PEM);
    // Beside another CA certificate, or with a flipped byte, it does not open.
    await expect(openCaKey(key, sealed, "pin-b", "db")).rejects.toThrow(CaKeyError);
    const tampered = { ...sealed, sealed: Buffer.from(sealed.sealed) };
    tampered.sealed[0]! ^= 1;
    await expect(openCaKey(key, tampered, "pin-a", "db")).rejects.toThrow(/does not open the fleet CA key stored in db/);
    const other = readCaKey({ env: { CLAWFLEET_CA_KEY: "x".repeat(40) } });
    const refused = await openCaKey(other, sealed, "pin-a", "db").catch((error: Error) => error.message);
    expect(refused).toMatch(/^CLAWFLEET_CA_KEY: this key does not open/);
    expect(refused).not.toContain("x".repeat(40));
  });

  it("takes the file before the environment, its bytes with trailing newlines dropped", () => {
    const file = join(dir, "key");
    writeFileSync(file, `${SECRET}\r\n`, { mode: 0o600 });
    const key = readCaKey({ file, env: { CLAWFLEET_CA_KEY: "e".repeat(40) } });
    expect(key.origin).toBe(`--ca-key-file ${file}`);
    expect(key.secret.toString()).toBe(SECRET);
    expect(() => readCaKey({ env: { CLAWFLEET_CA_KEY: "short" } })).toThrow(/^CLAWFLEET_CA_KEY: the key is too short \(5 bytes, at least 32\)/);
  });
});
