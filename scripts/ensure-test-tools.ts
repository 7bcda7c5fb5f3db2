// `npm test` brings what the tests drive for real, so the README's test command
// works on a fresh machine: Debian's headless Chromium (fleet page), Prometheus
// with promtool, Alertmanager with amtool, systemd-analyze (unit files), and the
// PostgreSQL server the PostgreSQL store's tests start (test/helpers/postgres.ts).
import { ensureDebianTools } from "./ensure-debian-tools.ts";
import { postgresServerBinDir } from "./postgres-server-bin.ts";

ensureDebianTools(
  [
    { command: "chromium", debianPackage: "chromium" },
    { command: "promtool", debianPackage: "prometheus" },
    { command: "amtool", debianPackage: "prometheus-alertmanager" },
    { command: "systemd-analyze", debianPackage: "systemd" },
    { command: "initdb", debianPackage: "postgresql", installed: () => postgresServerBinDir() !== undefined },
  ],
  "npm test",
);
