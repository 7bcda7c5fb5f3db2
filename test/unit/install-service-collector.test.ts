// `agent install-service` on an enrolled host: the unit reports where the host
// enrolled (one collector or the fleet's list) unless --collector says otherwise.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Authority } from "../../collector/pki/authority.ts";
import { resolveRunFlags } from "../../agent/service/service-commands.ts";
import { identityDir, writeIdentity } from "../../shared/pki/identity-files.ts";
import { createCsr, newKeyPair, privateKeyPem } from "../../shared/pki/x509.ts";

describe("install-service and the enrolled collectors", () => {
  const home = mkdtempSync(join(tmpdir(), "clawfleet-install-collector-"));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it("takes the list recorded at enrollment, and a flag or $CLAWFLEET_COLLECTOR over it", async () => {
    const state = join(home, "state");
    const authority = await Authority.open(join(home, "pki"));
    const keys = await newKeyPair();
    const issued = await authority.issue(await createCsr("mini-07", keys), "mini-07", "node", 3_600_000);
    writeIdentity(identityDir(state), { keyPem: await privateKeyPem(keys.privateKey), certificatePem: issued.certificatePem, caPem: authority.caPem, collector: "a.example.ts.net:4317,b.example.ts.net:4317" });
    const host = { env: { HOME: home }, platform: "linux" as const };
    expect(resolveRunFlags({ "state-dir": state }, host)).toMatchObject({ collector: "a.example.ts.net:4317,b.example.ts.net:4317", nodeId: "mini-07" });
    expect(resolveRunFlags({ "state-dir": state, collector: "srv:_clawfleet._tcp.example.ts.net" }, host).collector).toBe("srv:_clawfleet._tcp.example.ts.net");
    expect(resolveRunFlags({ "state-dir": state }, { ...host, env: { ...host.env, CLAWFLEET_COLLECTOR: "c.example.ts.net:4317" } }).collector).toBe("c.example.ts.net:4317");
    expect(() => resolveRunFlags({ "state-dir": state, collector: "a:4317,,b:4317" }, host)).toThrow(/--collector: empty entry/);
  });
});
