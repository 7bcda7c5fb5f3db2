// `npm test` brings what the tests drive for real, so the README's test command
// works on a fresh machine: Debian's headless Chromium (fleet page), Prometheus
// with promtool, Alertmanager with amtool, and systemd-analyze (unit files).
import { ensureDebianTools } from "./ensure-debian-tools.ts";

ensureDebianTools(
  [
    { command: "chromium", debianPackage: "chromium" },
    { command: "promtool", debianPackage: "prometheus" },
    { command: "amtool", debianPackage: "prometheus-alertmanager" },
    { command: "systemd-analyze", debianPackage: "systemd" },
  ],
  "npm test",
);
