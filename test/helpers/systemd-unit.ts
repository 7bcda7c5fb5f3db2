// The systemd user unit OpenClaw 2026.9.6 writes (test/fixtures/systemd, origin in SOURCES.md),
// placed where the agent looks for it, with what a scenario changes.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The unit OpenClaw writes, for this home and port, with another ExecStart. */
export function gatewayUnit(home: string, stateDir: string, port: number, execStart: string, extra = ""): void {
  const template = readFileSync(new URL("../fixtures/systemd/openclaw-gateway.service.template", import.meta.url), "utf8");
  const unit = template
    .replaceAll("{{HOME}}", home)
    .replaceAll("{{STATE_DIR}}", stateDir)
    .replace(/^ExecStart=.*$/m, `ExecStart=${execStart}`)
    .replace("OPENCLAW_GATEWAY_PORT=18789", `OPENCLAW_GATEWAY_PORT=${port}`)
    .replace("[Install]", `${extra}\n[Install]`);
  const unitDir = join(home, ".config", "systemd", "user");
  mkdirSync(unitDir, { recursive: true });
  writeFileSync(join(unitDir, "openclaw-gateway.service"), unit, { mode: 0o600 });
}
