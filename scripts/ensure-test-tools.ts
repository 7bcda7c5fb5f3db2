// `npm test` brings what the tests drive for real, so the README's test command
// works on a fresh machine: Debian's headless Chromium (fleet page), Prometheus
// with promtool, Alertmanager with amtool, and systemd-analyze (unit files).
// Installed with apt-get when missing (as root, or through passwordless sudo);
// otherwise it says exactly what to install and stops.
import { execFileSync, spawnSync } from "node:child_process";

const TOOLS: readonly { command: string; debianPackage: string }[] = [
  { command: "chromium", debianPackage: "chromium" },
  { command: "promtool", debianPackage: "prometheus" },
  { command: "amtool", debianPackage: "prometheus-alertmanager" },
  { command: "systemd-analyze", debianPackage: "systemd" },
];

const onPath = (command: string) => spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;

const missing = [...new Set(TOOLS.filter((t) => !onPath(t.command)).map((t) => t.debianPackage))];
if (missing.length > 0) {
  const root = process.getuid?.() === 0;
  const sudo = !root && onPath("sudo") && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0;
  if (!onPath("apt-get") || (!root && !sudo)) {
    process.stderr.write(`npm test needs Debian packages that are missing: ${missing.join(" ")}\n  install them with: sudo apt-get install --no-install-recommends ${missing.join(" ")}\n`);
    process.exit(1);
  }
  process.stderr.write(`installing the Debian packages the tests drive: ${missing.join(" ")}\n`);
  const run = (args: string[]) => execFileSync(root ? args[0]! : "sudo", root ? args.slice(1) : args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  run(["apt-get", "update", "-qq"]);
  run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...missing]);
}
