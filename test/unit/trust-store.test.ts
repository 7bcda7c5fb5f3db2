// Enrollment tokens and certificates in the trust store: one use, an expiry,
// revocation that drops unused tokens, and changes seen across connections
// (how a running collector learns of `collector revoke`).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TrustStore } from "../../collector/pki/trust-store.ts";
import { newEnrollmentToken, parseEnrollmentToken } from "../../shared/pki/enrollment-token.ts";

const dir = mkdtempSync(join(tmpdir(), "clawfleet-trust-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("trust store", () => {
  it("redeems a token once, before it expires, and says why it refuses", () => {
    const store = new TrustStore(join(dir, "a.db"));
    const now = 1_800_000_000_000;
    store.addEnrollment("s1", { name: "mini-01", role: "node", expiresMs: now + 60_000 }, now);
    store.addEnrollment("s2", { name: "mini-02", role: "node", expiresMs: now + 60_000 }, now);
    expect(store.redeem("s1", now + 1)).toEqual({ name: "mini-01", role: "node", expiresMs: now + 60_000 });
    expect(store.redeem("s1", now + 2)).toBe("token_used");
    expect(store.redeem("s2", now + 60_000)).toBe("token_expired");
    expect(store.redeem("nope", now)).toBe("unknown_token");
    store.close();
  });

  it("revokes every certificate of a name and its unused tokens, and another connection sees it", () => {
    const path = join(dir, "b.db");
    const collector = new TrustStore(path);
    const cli = new TrustStore(path);
    collector.recordCertificate({ serial: "AA", name: "mini-01", role: "node", issuedMs: 1, notAfterMs: 2 });
    collector.recordCertificate({ serial: "BB", name: "mini-01", role: "node", issuedMs: 1, notAfterMs: 2 });
    collector.recordCertificate({ serial: "CC", name: "mini-01", role: "operator", issuedMs: 1, notAfterMs: 2 });
    collector.addEnrollment("pending", { name: "mini-01", role: "node", expiresMs: Date.now() + 60_000 });
    collector.changedElsewhere();
    expect(cli.revoke("mini-01", "node")).toBe(2);
    expect(collector.changedElsewhere()).toBe(true);
    expect(collector.changedElsewhere()).toBe(false);
    expect([...collector.revokedSerials()].sort()).toEqual(["AA", "BB"]);
    expect(collector.certificate("CC")?.revokedMs).toBeUndefined();
    expect(collector.redeem("pending")).toBe("unknown_token");
    collector.close();
    cli.close();
  });

  it("forgets tokens and certificates a day past their expiry", () => {
    const store = new TrustStore(join(dir, "p.db"));
    const now = 1_800_000_000_000;
    store.addEnrollment("old", { name: "a", role: "node", expiresMs: now - 2 * 86_400_000 }, now);
    store.addEnrollment("fresh", { name: "b", role: "node", expiresMs: now + 60_000 }, now);
    store.recordCertificate({ serial: "01", name: "a", role: "node", issuedMs: 0, notAfterMs: now - 2 * 86_400_000 });
    store.recordCertificate({ serial: "02", name: "a", role: "node", issuedMs: 0, notAfterMs: now - 1000 });
    expect(store.prune(now)).toEqual({ tokens: 1, certificates: 1 });
    expect(store.certificate("01")).toBeUndefined();
    expect(store.certificate("02")).toBeDefined();
    expect(store.redeem("fresh", now)).toMatchObject({ name: "b" });
    store.close();
  });

  it("keeps only a hash of each token, and tokens carry the CA pin", () => {
    const { token, secret } = newEnrollmentToken("P".repeat(43));
    expect(parseEnrollmentToken(token)).toEqual({ secret, caPin: "P".repeat(43) });
    expect(parseEnrollmentToken(`${token}x`)).toBeUndefined();
    const path = join(dir, "c.db");
    const store = new TrustStore(path);
    store.addEnrollment(secret, { name: "n", role: "node", expiresMs: Date.now() + 1000 });
    store.close();
    const bytes = Buffer.concat(readdirSync(dir).filter((f) => f.startsWith("c.db")).map((f) => readFileSync(join(dir, f))));
    expect(bytes.includes(secret)).toBe(false);
  });
});
