// Usage errors: a clear message naming the flag, exit 2 (3 for `agent check`,
// which follows the Nagios convention where 2 means CRITICAL).
import { describe, expect, it } from "vitest";
import { runClawfleet } from "../helpers/processes.ts";

describe("command line", () => {
  it.each([
    [["agent", "check", "--bogus"], 3, /Unknown option '--bogus'/],
    [["agent", "check", "extra"], 3, /Unexpected argument 'extra'/],
    [["agent", "run", "--interval", "soon"], 2, /--interval: "soon" is not a duration/],
    [["agent", "run", "--interval", "100ms"], 2, /--interval must be at least 1s/],
    [["agent", "run", "--insecure", "--collector", "no-port"], 2, /--collector must be HOST:PORT/],
    [["agent", "run", "--node-id", "Bad Name"], 2, /--node-id must be lowercase/],
    [["collector", "serve", "--insecure", "--grpc-listen", "127.0.0.1:99999"], 2, /--grpc-listen must be HOST:PORT/],
    [["collector", "serve", "--insecure", "--db"], 2, /Option '--db <value>' argument missing/],
    [["collector", "query", "nodes", "--insecure", "--collector", ":1"], 2, /--collector must be HOST:PORT/],
    [["agent", "frobnicate"], 2, /unknown command "agent frobnicate"/],
    [[], 2, /Usage: clawfleet <command>/],
    [["collector", "enroll"], 2, /name exactly one NODE/],
    [["collector", "enroll", "Mini 01"], 2, /NODE must be lowercase/],
    [["collector", "enroll", "mini-01", "--ttl", "10s"], 2, /--ttl must be between 1m and 7d/],
    [["collector", "revoke"], 2, /name exactly one NODE/],
    [["agent", "enroll", "--collector", "127.0.0.1:1"], 2, /--token is required/],
    [["agent", "enroll", "--collector", "127.0.0.1:1", "--token", "hunter2"], 1, /--token is not an enrollment token/],
    [["collector", "serve", "--insecure", "--grpc-listen", "0.0.0.0:4317"], 2, /--insecure listens on loopback only/],
    [["collector", "serve", "--cert-lifetime", "1s"], 2, /--cert-lifetime must be at least 3s/],
    [["collector", "serve", "--log-level", "loud"], 2, /--log-level must be one of debug, info, warn, error, got "loud"/],
    [["agent", "run", "--insecure", "--log-format", "xml"], 2, /--log-format must be text or json, got "xml"/],
  ])("clawfleet %j exits %i with a message", async (args, status, message) => {
    const result = await runClawfleet(args as string[]);
    expect(result.code).toBe(status);
    expect(result.stderr + result.stdout).toMatch(message as RegExp);
  });

  it.each([["agent", "check"], ["agent", "run"], ["agent", "enroll"], ["collector", "serve"], ["collector", "enroll"], ["collector", "revoke"], ["collector", "login"], ["collector", "query", "nodes"], ["start"]])("%s %s --help prints usage and exits 0", async (...path) => {
    const result = await runClawfleet([...path, "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: clawfleet ${path.join(" ")}`);
  });

  it("says where the collector should be when it is not there (exit 3)", async () => {
    const result = await runClawfleet(["collector", "query", "nodes", "--insecure", "--collector", "127.0.0.1:1"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/cannot query the collector at 127\.0\.0\.1:1.*\n.*Is the collector running there\?/);
  });

  it("prints its version", async () => {
    const result = await runClawfleet(["--version"]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
