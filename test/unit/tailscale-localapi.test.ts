// Reading tailscaled the way its own CLI does: unix socket with the
// local-tailscaled.sock Host, or the macOS GUI variants' 127.0.0.1 port with a
// Basic-auth token; and what the answers mean.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defaultSocketPath, keyExpired, parseSameUserProofLsof, readTailscale, selfDnsName, tailscaleInstallSigns, type IpnStatus } from "../../agent/discovery/tailscale-localapi.ts";
import { replayRunner } from "../../agent/platform/command-runner.ts";
import { startFakeLocalApi, statusFixture, type FakeLocalApi } from "../fakes/tailscale-localapi.ts";

/** A raw request, so the test controls Host, Origin and Authorization exactly. */
function raw(target: { socketPath?: string; port?: number }, headers: Record<string, string>, path = "/localapi/v0/status"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...(target.socketPath ? { socketPath: target.socketPath } : { host: "127.0.0.1", port: target.port }), path, headers, setHost: false }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the LocalAPI fake keeps tailscaled's request rules", () => {
  let api: FakeLocalApi;
  afterEach(async () => api?.close());

  it("on the unix socket, answers only Host local-tailscaled.sock (or none), and refuses Origin/Referer", async () => {
    api = await startFakeLocalApi();
    expect((await raw(api, { host: "local-tailscaled.sock" })).status).toBe(200);
    // HTTP/1.1 without Host never reaches LocalAPI: Go's server answers 400 too.
    expect((await raw(api, {})).status).toBe(400);
    expect(await raw(api, { host: "127.0.0.1:41112" })).toEqual({ status: 403, body: "invalid localapi request\n" });
    expect((await raw(api, { host: "localhost:9109" })).status).toBe(403);
    expect((await raw(api, { host: "local-tailscaled.sock", origin: "http://evil.example" })).status).toBe(403);
    expect((await raw(api, { host: "local-tailscaled.sock", referer: "http://evil.example/" })).status).toBe(403);
    expect((await raw(api, { host: "local-tailscaled.sock" }, "/localapi/v0/nope")).status).toBe(404);
  });

  it("in password mode (macOS GUI), wants Basic auth and then also accepts a loopback Host", async () => {
    api = await startFakeLocalApi({ password: "0123456789abcdef0123" });
    const basic = (password: string) => `Basic ${Buffer.from(`:${password}`).toString("base64")}`;
    expect((await raw(api, { host: `127.0.0.1:${api.port}` })).status).toBe(401);
    expect((await raw(api, { host: `127.0.0.1:${api.port}`, authorization: basic("wrong") })).status).toBe(403);
    expect((await raw(api, { host: `127.0.0.1:${api.port}`, authorization: basic("0123456789abcdef0123") })).status).toBe(200);
    expect((await raw(api, { host: `evil.example:${api.port}`, authorization: basic("0123456789abcdef0123") })).status).toBe(403);
  });
});

describe("readTailscale", () => {
  let dir: string;
  let api: FakeLocalApi | undefined;
  const signal = () => AbortSignal.timeout(5000);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-tsread-"));
  });
  afterEach(async () => {
    await api?.close();
    api = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads status and serve-config over the socket named by CLAWFLEET_TAILSCALE_SOCKET", async () => {
    api = await startFakeLocalApi();
    api.running({ dnsName: "mini-01.tail1234.ts.net." });
    api.serveForeground({ host: "mini-01.tail1234.ts.net", targetPort: 18789 });
    const reading = await readTailscale({ env: { CLAWFLEET_TAILSCALE_SOCKET: api.socketPath, PATH: "" }, platform: "linux", runner: replayRunner({}), signal: signal() });
    expect(reading.endpoint).toEqual({ kind: "unix", socketPath: api.socketPath, via: "CLAWFLEET_TAILSCALE_SOCKET" });
    expect(reading.installSigns).toEqual([`socket ${api.socketPath}`]);
    expect(reading.status).toMatchObject({ BackendState: "Running", Self: { DNSName: "mini-01.tail1234.ts.net." } });
    expect(reading.serveConfig).toHaveProperty("Foreground");
    expect(api.requests.map((r) => r.path).sort()).toEqual(["/localapi/v0/serve-config", "/localapi/v0/status?peers=false"]);
  });

  it("gives a null Serve config when tailscaled has none", async () => {
    api = await startFakeLocalApi();
    const reading = await readTailscale({ env: { CLAWFLEET_TAILSCALE_SOCKET: api.socketPath }, platform: "linux", runner: replayRunner({}), signal: signal() });
    expect(reading.serveConfig).toBeNull();
    expect(reading.serveError).toBeUndefined();
  });

  it("finds nothing, and asks nothing, when there is no socket, no tailscale on PATH and no macOS app", async () => {
    const reading = await readTailscale({ env: { CLAWFLEET_TAILSCALE_SOCKET: join(dir, "none.sock"), PATH: dir }, platform: "linux", runner: replayRunner({}), signal: signal() });
    expect(reading).toEqual({ installSigns: [] });
  });

  it("says why tailscaled does not answer when Tailscale is installed but its socket is dead", async () => {
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "tailscale"), "");
    chmodSync(join(bin, "tailscale"), 0o755);
    const reading = await readTailscale({ env: { CLAWFLEET_TAILSCALE_SOCKET: join(dir, "gone.sock"), PATH: bin }, platform: "linux", runner: replayRunner({}), signal: signal() });
    expect(reading.installSigns).toEqual([`binary ${join(bin, "tailscale")}`]);
    expect(reading.statusError).toBe("ENOENT");
    expect(reading.status).toBeUndefined();
  });

  it("on macOS uses the standalone app's ipnport symlink and sameuserproof token, with Basic auth", async () => {
    const password = "a1b2c3d4e5f6a7b8c9d0";
    api = await startFakeLocalApi({ password });
    symlinkSync(String(api.port), join(dir, "ipnport"));
    writeFileSync(join(dir, `sameuserproof-${api.port}`), `${password}\n`);
    const reading = await readTailscale({ env: { PATH: "" }, platform: "darwin", runner: replayRunner({}), signal: signal(), macSharedDir: dir, macApp: join(dir, "Tailscale.app") });
    expect(reading.endpoint).toMatchObject({ kind: "tcp", port: api.port, via: join(dir, "ipnport") });
    expect(reading.installSigns).toEqual([`app ${dir}`]);
    expect(reading.status?.BackendState).toBe("Running");
    expect(api.requests.every((r) => r.status === 200 && r.host === `127.0.0.1:${api!.port}`)).toBe(true);
  });

  it("on macOS prefers the App Store extension's sameuserproof file, found with lsof as cmd/tailscale does", async () => {
    const password = "f0e1d2c3b4a5968778695a4b";
    api = await startFakeLocalApi({ password });
    const lsofOutput = `p812\ncIPNExtension\nf4\nn/Users/ops/Library/Group Containers/io.tailscale.ipn.macos/sameuserproof-${api.port}-${password}\n`;
    const calls: string[] = [];
    const runner = replayRunner({ [`lsof -n -a -u${process.getuid!()} -c IPNExtension -F`]: { stdout: lsofOutput } }, calls);
    const reading = await readTailscale({ env: {}, platform: "darwin", runner, signal: signal(), macSharedDir: join(dir, "absent"), macApp: join(dir, "absent.app") });
    expect(calls).toHaveLength(1);
    expect(reading.endpoint).toMatchObject({ kind: "tcp", port: api.port, password });
    expect(reading.status?.BackendState).toBe("Running");
  });

  it("parses lsof -F lines for .tailscale.ipn.macos/sameuserproof-<port>-<token> and nothing else", () => {
    expect(parseSameUserProofLsof("n/x/.tailscale.ipn.macos/sameuserproof-50123-abcdef\n")).toEqual({ port: 50123, password: "abcdef" });
    expect(parseSameUserProofLsof("n/x/other/sameuserproof-50123-abcdef\n")).toBeUndefined();
    expect(parseSameUserProofLsof("n/x/.tailscale.ipn.macos/sameuserproof-notaport\n")).toBeUndefined();
  });

  it("knows tailscaled's default sockets (paths.DefaultTailscaledSocket)", () => {
    expect(defaultSocketPath("linux")).toBe("/var/run/tailscale/tailscaled.sock");
    expect(defaultSocketPath("darwin")).toBe("/var/run/tailscaled.socket");
  });

  it("counts the macOS app bundle as installed only on macOS", () => {
    mkdirSync(join(dir, "Tailscale.app"));
    const options = { env: { PATH: "" }, macSharedDir: join(dir, "none"), macApp: join(dir, "Tailscale.app") };
    expect(tailscaleInstallSigns({ ...options, platform: "darwin" }, join(dir, "x.sock"))).toEqual([`app ${join(dir, "Tailscale.app")}`]);
    expect(tailscaleInstallSigns({ ...options, platform: "linux" }, join(dir, "x.sock"))).toEqual([]);
  });
});

describe("reading ipnstate.Status", () => {
  const now = Date.parse("2026-11-25T12:00:00Z");

  it("sees an expired key in the key-expired fixture, and not in a plain logout or a running node", () => {
    expect(keyExpired(statusFixture("key-expired") as IpnStatus, now)).toBe(true);
    expect(keyExpired(statusFixture("needs-login") as IpnStatus, now)).toBe(false);
    expect(keyExpired(statusFixture("running") as IpnStatus, Date.parse("2026-12-01T00:00:00Z"))).toBe(false);
  });

  it("sees it from each signal alone: Self.KeyExpiry in the past, Self.Expired, or health text naming key expiry", () => {
    const base = statusFixture("needs-login") as IpnStatus;
    expect(keyExpired({ ...base, Self: { ...base.Self, KeyExpiry: "2026-11-24T00:00:00Z" } }, now)).toBe(true);
    expect(keyExpired({ ...base, Self: { ...base.Self, KeyExpiry: "2026-11-26T00:00:00Z" } }, now)).toBe(false);
    expect(keyExpired({ ...base, Self: { ...base.Self, Expired: true } }, now)).toBe(true);
    expect(keyExpired({ ...base, Health: ["You are logged out. The last login error was: node key expired"] }, now)).toBe(true);
    expect(keyExpired({ ...base, Health: ["You are logged out."] }, now)).toBe(false);
  });

  it("strips the trailing dot of Self.DNSName and has none while logged out", () => {
    expect(selfDnsName(statusFixture("running") as IpnStatus)).toBe("mini-01.tail1234.ts.net");
    expect(selfDnsName(statusFixture("needs-login") as IpnStatus)).toBeUndefined();
  });
});
