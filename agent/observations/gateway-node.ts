// The Node version the gateway runs on: the live process's executable, else
// the service's program. Our own version when it is the very file this agent
// runs on, else read from the install's node_version.h when there is one (a
// file read instead of starting a process), cached by path and mtime.
import { readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { serviceDiscovery } from "./gateway-services.ts";
import { portOwner } from "./host-gateway.ts";
import { observation } from "./observation.ts";
import { rememberNodeVersion } from "./run-caches.ts";

export const gatewayNodeVersion = observation<string | undefined>("gateway-node", 2500, [portOwner, serviceDiscovery], async (ctx) => {
  const [owner, { services }] = await Promise.all([ctx.observe(portOwner), ctx.observe(serviceDiscovery)]);
  const exe = owner.gateway?.exe ?? services[0]?.programArguments[0];
  if (!exe || !/(^|\/)node[\d.]*$/.test(exe)) return undefined;
  let key: string;
  try {
    key = `${exe}@${statSync(exe).mtimeMs}`;
  } catch {
    return undefined;
  }
  const cached = ctx.caches.nodeVersions.get(key);
  if (cached) return cached;
  let version = versionOfOwnBinary(exe) ?? versionFromHeader(exe);
  if (!version) {
    const result = await ctx.runner.run(exe, ["--version"], { timeoutMs: 2000, signal: ctx.signal });
    if (result.exitCode !== 0) return undefined; // not remembered: it may work next time
    version = result.stdout.trim().replace(/^v/, "");
  }
  rememberNodeVersion(ctx.caches, key, version);
  return version;
});

/** The agent's own Node version when `exe` is the same file (device and inode) as the executable it runs on. */
export function versionOfOwnBinary(exe: string, own: string = process.execPath): string | undefined {
  try {
    const [theirs, ours] = [statSync(exe), statSync(own)];
    return theirs.dev === ours.dev && theirs.ino === ours.ino ? process.versions.node : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Official Node builds and Homebrew ship `include/node/node_version.h` beside
 * `bin/node`: reading it costs a file read instead of starting a process.
 */
export function versionFromHeader(exe: string): string | undefined {
  try {
    const header = readFileSync(join(dirname(realpathSync(exe)), "..", "include", "node", "node_version.h"), "utf8");
    const part = (name: string) => new RegExp(`#define NODE_${name}_VERSION (\\d+)`).exec(header)?.[1];
    const [major, minor, patch] = [part("MAJOR"), part("MINOR"), part("PATCH")];
    return major && minor && patch ? `${major}.${minor}.${patch}` : undefined;
  } catch {
    return undefined;
  }
}
