// Brings Debian packages that tests and benchmarks drive for real, so their
// commands work on a fresh machine: installed with apt-get when a command is
// missing (as root, or through passwordless sudo); otherwise it says exactly
// what to install and exits 1. Used by scripts/ensure-test-tools.ts (npm test)
// and bench/run-all.ts (npm run bench).
import { execFileSync, spawnSync } from "node:child_process";

export interface DebianTool {
  /** A command the package puts on PATH. */
  command: string;
  debianPackage: string;
  /** For a package whose programs are not on PATH (PostgreSQL's server): says whether they are installed. */
  installed?: () => boolean;
}

const onPath = (command: string) => spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;

/** Installs the packages of every tool whose command is missing; `purpose` names who needs them ("npm test"). */
export function ensureDebianTools(tools: readonly DebianTool[], purpose: string): void {
  const missing = [...new Set(tools.filter((t) => !(t.installed ? t.installed() : onPath(t.command))).map((t) => t.debianPackage))];
  if (missing.length === 0) return;
  const root = process.getuid?.() === 0;
  const sudo = !root && onPath("sudo") && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0;
  if (!onPath("apt-get") || (!root && !sudo)) {
    process.stderr.write(`${purpose} needs Debian packages that are missing: ${missing.join(" ")}\n  install them with: sudo apt-get install --no-install-recommends ${missing.join(" ")}\n`);
    process.exit(1);
  }
  process.stderr.write(`installing the Debian packages ${purpose} drives: ${missing.join(" ")}\n`);
  const run = (args: string[]) => execFileSync(root ? args[0]! : "sudo", root ? args.slice(1) : args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  run(["apt-get", "update", "-qq"]);
  run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...missing]);
}
