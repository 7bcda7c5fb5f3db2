// `--collector srv:NAME` against a DNS server on loopback (test/fakes/dns-srv-server.ts)
// through node's own resolver: the answers become collectors in RFC 2782 order,
// a missing or "." record and a silent server are clear errors within the
// bound, and the directory asks again when a lookup failed or every collector
// of the answer did.
import { afterEach, describe, expect, it } from "vitest";
import { lookupSrv, SrvLookupError } from "../../shared/srv-lookup.ts";
import { CollectorChoice, CollectorDirectory } from "../../agent/run/collector-choice.ts";
import { parseCollectorSpec } from "../../shared/collector-list.ts";
import { startFakeDns, type FakeDnsServer } from "../fakes/dns-srv-server.ts";

const NAME = "_clawfleet._tcp.fleet.example";

describe("SRV lookup", () => {
  let dns: FakeDnsServer | undefined;
  afterEach(async () => {
    await dns?.stop();
    dns = undefined;
  });

  it("turns the answers into collectors, lowest priority first", async () => {
    dns = await startFakeDns({
      [NAME]: [
        { priority: 20, weight: 5, port: 4319, target: "standby.fleet.example" },
        { priority: 10, weight: 60, port: 4317, target: "a.fleet.example" },
        { priority: 10, weight: 40, port: 4318, target: "b.fleet.example." },
      ],
    });
    const targets = await lookupSrv(NAME, { servers: [dns.server] });
    expect(targets).toEqual([
      { address: "a.fleet.example:4317", priority: 10, weight: 60 },
      { address: "b.fleet.example:4318", priority: 10, weight: 40 },
      { address: "standby.fleet.example:4319", priority: 20, weight: 5 },
    ]);
    expect(dns.asked).toContain(NAME);
  });

  it("says so when there is no record, when the record says \".\", and when the server does not answer", async () => {
    dns = await startFakeDns({ "_none._tcp.fleet.example": [{ priority: 0, weight: 0, port: 0, target: "." }], "_hang._tcp.fleet.example": "silent" });
    await expect(lookupSrv("_missing._tcp.fleet.example", { servers: [dns.server] })).rejects.toThrow(/no SRV record _missing\._tcp\.fleet\.example \(ENOTFOUND\)/);
    await expect(lookupSrv("_none._tcp.fleet.example", { servers: [dns.server] })).rejects.toThrow(/names no collector/);
    const started = Date.now();
    await expect(lookupSrv("_hang._tcp.fleet.example", { servers: [dns.server], timeoutMs: 600 })).rejects.toThrow(SrvLookupError);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it("the directory re-resolves after a failed lookup and after every collector of the answer failed", async () => {
    dns = await startFakeDns({ [NAME]: "nxdomain" });
    const directory = new CollectorDirectory(parseCollectorSpec("collector", `srv:${NAME}`), { lookup: { servers: [dns.server] }, backoff: { initialMs: 50, maxMs: 200 }, reresolveMinMs: 300 });
    const choice = new CollectorChoice(directory, "mini-01", { initialMs: 5000, maxMs: 5000 });
    const first = await choice.next();
    expect(first).toMatchObject({ problem: expect.stringMatching(/no SRV record/) });
    // The zone is fixed; the next lookup (after its backoff) finds it.
    dns.answers.set(NAME.toLowerCase(), [{ priority: 0, weight: 1, port: 4317, target: "a.fleet.example" }]);
    await new Promise((r) => setTimeout(r, Math.max(0, (first as { inMs: number }).inMs) + 20));
    expect(await choice.next()).toEqual({ address: "a.fleet.example:4317", inMs: 0 });
    // a fails; the zone now names b: the next pick asks again (at most every few seconds) and goes to b.
    dns.answers.set(NAME.toLowerCase(), [{ priority: 0, weight: 1, port: 4317, target: "b.fleet.example" }]);
    choice.failed("a.fleet.example:4317");
    const asked = dns.asked.length;
    const pick = await choice.next();
    // Within the minimum spacing the old answer stands: a waits out its backoff.
    expect(dns.asked.length).toBe(asked);
    expect(pick).toMatchObject({ address: "a.fleet.example:4317" });
    expect((pick as { inMs: number }).inMs).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 320));
    expect(await choice.next()).toEqual({ address: "b.fleet.example:4317", inMs: 0 });
    expect(dns.asked.length).toBeGreaterThan(asked);
  });
});
