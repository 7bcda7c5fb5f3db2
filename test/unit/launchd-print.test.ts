// `launchctl print` is not an API: these replay recorded outputs (see each
// fixture's header) through the runner production uses.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { replayRunner } from "../../agent/platform/command-runner.ts";
import { LAUNCHD_DEFAULT_PATH, launchctlPrint, parseLaunchctlPrint } from "../../agent/platform/launchd.ts";
import { loadFixture, recordings } from "../fixtures/macos/recording.ts";

const fixture = (name: string) => loadFixture(join(import.meta.dirname, "../fixtures/macos", name));

describe("launchctl print parsing", () => {
  it("reads state, pid, runs and a never-exited job from a running KeepAlive agent", () => {
    const job = parseLaunchctlPrint(fixture("launchctl-print-running.txt").stdout!);
    expect(job).toMatchObject({ state: "running", pid: 1076, runs: 1, lastExit: "(never exited)", jobState: "running" });
    expect(job?.lastExitStatus).toBeUndefined();
    expect(job?.path).toBe("/Users/mini/Library/LaunchAgents/ai.openclaw.gateway.plist");
  });

  it("takes only top-level fields: nested `state = active` in coalitions does not overwrite the job's state", () => {
    const job = parseLaunchctlPrint(fixture("launchctl-print-crash-loop.txt").stdout!);
    expect(job?.state).toBe("not running");
    expect(job?.pid).toBeUndefined();
  });

  it("survives an LWCR array that closes on its own line and still reads the fields after it", () => {
    const job = parseLaunchctlPrint(fixture("launchctl-print-running.txt").stdout!);
    // pid, runs and `last exit code` come after the LWCR block.
    expect([job?.pid, job?.runs]).toEqual([1076, 1]);
  });

  it("reads the argument list, the job's environment and launchd's default PATH", () => {
    const job = parseLaunchctlPrint(fixture("launchctl-print-running.txt").stdout!)!;
    expect(job.arguments).toEqual([
      "/bin/sh",
      "/Users/mini/.openclaw/service-env/ai.openclaw.gateway-env-wrapper.sh",
      "/Users/mini/.openclaw/service-env/ai.openclaw.gateway.env",
      "/opt/homebrew/bin/node",
      "--max-old-space-size=4096",
      "/opt/homebrew/lib/node_modules/openclaw/dist/index.js",
      "gateway",
      "--port",
      "18789",
    ]);
    expect(job.environment).toEqual({ OSLogRateLimit: "64", XPC_SERVICE_NAME: "ai.openclaw.gateway" });
    expect(job.defaultEnvironment.PATH).toBe(LAUNCHD_DEFAULT_PATH);
    // The inherited SSH_AUTH_SOCK is launchd's, not the job's.
    expect(job.environment.SSH_AUTH_SOCK).toBeUndefined();
  });

  it("reads `last exit code = 78: EX_CONFIG` as 78 with its name kept, and counts the runs of a crash loop", () => {
    const job = parseLaunchctlPrint(fixture("launchctl-print-crash-loop.txt").stdout!);
    expect(job).toMatchObject({ runs: 14, lastExitStatus: 78, lastExit: "78: EX_CONFIG" });
  });

  it("reports a signal death as its negative number, like `launchctl list`", () => {
    const text = fixture("launchctl-print-crash-loop.txt").stdout!.replace("\tlast exit code = 78: EX_CONFIG", "\tlast terminating signal = Terminated: 15");
    expect(parseLaunchctlPrint(text)).toMatchObject({ lastExitStatus: -15, lastExit: "Terminated: 15" });
  });

  it("returns nothing for output it does not recognise instead of an empty job", () => {
    expect(parseLaunchctlPrint("")).toBeUndefined();
    expect(parseLaunchctlPrint("Usage: launchctl print <domain-target>\n")).toBeUndefined();
    expect(parseLaunchctlPrint("gui/501/x = {\n\tfoo = bar\n}\n")).toBeUndefined();
  });
});

describe("launchctlPrint through the runner", () => {
  it("exit 113 with 'Could not find service' means not loaded", async () => {
    const notLoaded = fixture("launchctl-print-not-loaded.txt");
    const calls: string[] = [];
    const result = await launchctlPrint(replayRunner(recordings(notLoaded), calls), 501, "ai.openclaw.gateway");
    expect(result).toEqual({ status: "not-loaded", detail: 'Could not find service "ai.openclaw.gateway" in domain for user gui: 501' });
    expect(calls).toEqual(["launchctl print gui/501/ai.openclaw.gateway"]);
  });

  it("a loaded job is parsed", async () => {
    const result = await launchctlPrint(replayRunner(recordings(fixture("launchctl-print-running.txt"))), 501, "ai.openclaw.gateway");
    expect(result.status).toBe("loaded");
    expect(result.status === "loaded" && result.job.pid).toBe(1076);
  });

  it("a missing launchctl, a timeout, another failure or garbage is 'unknown' with the reason, not 'not loaded'", async () => {
    const key = "launchctl print gui/501/ai.openclaw.gateway";
    expect(await launchctlPrint(replayRunner({}), 501, "ai.openclaw.gateway")).toEqual({ status: "unknown", detail: "launchctl is not available" });
    expect((await launchctlPrint(replayRunner({ [key]: { exitCode: 124 } }), 501, "ai.openclaw.gateway")).status).toBe("unknown");
    const denied = await launchctlPrint(replayRunner({ [key]: { exitCode: 5, stderr: "Operation not permitted\n" } }), 501, "ai.openclaw.gateway");
    expect(denied).toEqual({ status: "unknown", detail: "`launchctl print gui/501/ai.openclaw.gateway` exited 5: Operation not permitted" });
    const garbage = await launchctlPrint(replayRunner({ [key]: { stdout: "\u0000\u0001 not launchctl\n" } }), 501, "ai.openclaw.gateway");
    expect(garbage.status).toBe("unknown");
  });
});
