// Discovery follows the OpenClaw CLI: env paths, JSON5 config, ${VAR}
// substitution, env SecretRefs and the documented token precedence.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveSecret } from "../../agent/discovery/openclaw-config.ts";
import { parseDotenv } from "../../agent/discovery/openclaw-dotenv.ts";
import { DEFAULT_GATEWAY_PORT, discoverOpenClaw, envOrigin } from "../../agent/discovery/openclaw-world.ts";

describe("OpenClaw discovery", () => {
  let home: string;
  let stateDir: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "clawfleet-world-"));
    stateDir = join(home, ".openclaw");
    mkdirSync(stateDir);
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));
  const writeConfig = (text: string, dir = stateDir) => writeFileSync(join(dir, "openclaw.json"), text);

  it("uses ~/.openclaw/openclaw.json and port 18789 on a bare install", () => {
    const world = discoverOpenClaw({ HOME: home });
    expect(world.stateDir).toBe(stateDir);
    expect(world.config).toMatchObject({ path: join(stateDir, "openclaw.json"), exists: false });
    expect([world.port, world.portSource]).toEqual([DEFAULT_GATEWAY_PORT, "default"]);
    expect(world.clientToken).toBeUndefined();
  });

  it("honours OPENCLAW_STATE_DIR, OPENCLAW_CONFIG_PATH, OPENCLAW_PROFILE and OPENCLAW_HOME", () => {
    expect(discoverOpenClaw({ HOME: home, OPENCLAW_PROFILE: "work" }).stateDir).toBe(join(home, ".openclaw-work"));
    expect(discoverOpenClaw({ HOME: "/nowhere", OPENCLAW_HOME: home }).stateDir).toBe(stateDir);
    expect(discoverOpenClaw({ HOME: home, OPENCLAW_STATE_DIR: "/srv/oc" }).config.path).toBe("/srv/oc/openclaw.json");
    expect(discoverOpenClaw({ HOME: home, OPENCLAW_CONFIG_PATH: "/etc/oc.json" }).config.path).toBe("/etc/oc.json");
  });

  it("reads JSON5 config: port, and the local token before the env token", () => {
    writeConfig(`{
      // comments and trailing commas are JSON5
      gateway: { port: 19001, auth: { token: "from-config" }, remote: { token: "remote-one" }, },
    }`);
    const world = discoverOpenClaw({ HOME: home, OPENCLAW_GATEWAY_TOKEN: "from-env" });
    expect([world.port, world.portSource]).toEqual([19001, "config gateway.port"]);
    expect(world.tokenSources.map((s) => s.source)).toEqual(["config gateway.auth.token", "env OPENCLAW_GATEWAY_TOKEN", "config gateway.remote.token"]);
    expect(world.clientToken).toMatchObject({ source: "config gateway.auth.token", value: "from-config" });
  });

  it("puts the remote token first in remote mode, and lets OPENCLAW_GATEWAY_PORT win", () => {
    writeConfig(`{ gateway: { mode: "remote", port: 19001, auth: { token: "local" }, remote: { token: "remote-one" } } }`);
    const world = discoverOpenClaw({ HOME: home, OPENCLAW_GATEWAY_PORT: "19500" });
    expect(world.clientToken).toMatchObject({ source: "config gateway.remote.token", value: "remote-one" });
    expect([world.port, world.portSource]).toEqual([19500, "env OPENCLAW_GATEWAY_PORT"]);
  });

  it("substitutes ${VAR} from the shell and the state dir's .env, which never overrides the shell", () => {
    writeConfig(`{ gateway: { auth: { token: "\${GW_TOKEN}" } } }`);
    writeFileSync(join(stateDir, ".env"), "GW_TOKEN=from-dotenv\nOTHER='quoted value' # comment\n");
    expect(discoverOpenClaw({ HOME: home }).clientToken).toMatchObject({ value: "from-dotenv" });
    expect(discoverOpenClaw({ HOME: home, GW_TOKEN: "from-shell" }).clientToken).toMatchObject({ value: "from-shell" });
  });

  it("names the file a token or port really comes from: the shell only when the shell set it", () => {
    writeFileSync(join(stateDir, ".env"), "OPENCLAW_GATEWAY_TOKEN=from-state-dotenv\nOPENCLAW_GATEWAY_PORT=19444\n");
    const fromFile = discoverOpenClaw({ HOME: home });
    // Before: "env OPENCLAW_GATEWAY_TOKEN", read as the shell's, for a value only ~/.openclaw/.env holds.
    expect(fromFile.clientToken).toMatchObject({ source: `${join(stateDir, ".env")} OPENCLAW_GATEWAY_TOKEN`, value: "from-state-dotenv" });
    expect([fromFile.port, fromFile.portSource]).toEqual([19444, `${join(stateDir, ".env")} OPENCLAW_GATEWAY_PORT`]);
    const fromShell = discoverOpenClaw({ HOME: home, OPENCLAW_GATEWAY_TOKEN: "from-shell" });
    expect(fromShell.clientToken).toMatchObject({ source: "env OPENCLAW_GATEWAY_TOKEN", value: "from-shell" });
    expect(envOrigin(fromShell, "OPENCLAW_GATEWAY_TOKEN")).toBe("shell");
    expect(envOrigin(fromFile, "OPENCLAW_GATEWAY_TOKEN")).toMatchObject({ path: join(stateDir, ".env") });
    expect(envOrigin(fromFile, "NOT_SET_ANYWHERE")).toBeUndefined();
  });

  it("loads ~/.config/openclaw/gateway.env after the state dir's .env, as the gateway does, and names it", () => {
    mkdirSync(join(home, ".config", "openclaw"), { recursive: true });
    writeFileSync(join(home, ".config", "openclaw", "gateway.env"), "OPENCLAW_GATEWAY_TOKEN=from-gateway-env\nGW_ONLY=1\n");
    const world = discoverOpenClaw({ HOME: home });
    expect(world.clientToken).toMatchObject({ source: `${join(home, ".config", "openclaw", "gateway.env")} OPENCLAW_GATEWAY_TOKEN`, value: "from-gateway-env" });
    writeFileSync(join(stateDir, ".env"), "OPENCLAW_GATEWAY_TOKEN=from-state-dotenv\n");
    expect(discoverOpenClaw({ HOME: home }).clientToken).toMatchObject({ source: `${join(stateDir, ".env")} OPENCLAW_GATEWAY_TOKEN`, value: "from-state-dotenv" });
    // A state dir moved by OPENCLAW_STATE_DIR does not read gateway.env.
    const moved = join(home, "moved");
    mkdirSync(moved);
    expect(discoverOpenClaw({ HOME: home, OPENCLAW_STATE_DIR: moved }).env.GW_ONLY).toBeUndefined();
  });

  it("resolves $include before reading values, so a token in an included file is the one used", () => {
    writeConfig(`{ gateway: { "$include": "./gateway.json5", port: 19002 } }`);
    writeFileSync(join(stateDir, "gateway.json5"), `{ port: 19001, auth: { token: "\${GW_TOKEN}" } }`);
    const world = discoverOpenClaw({ HOME: home, GW_TOKEN: "included" });
    expect(world.config.includes).toEqual([join(stateDir, "gateway.json5")]);
    expect([world.port, world.clientToken?.value]).toEqual([19002, "included"]);
    writeConfig(`{ "$include": "../outside.json5" }`);
    expect(discoverOpenClaw({ HOME: home }).config.error).toBe(`${join(stateDir, "openclaw.json")}: Include path escapes config directory: ../outside.json5 (root: ${stateDir})`);
  });

  it("substitutes ${VAR} from the config's own env.vars, as the gateway applies them first", () => {
    // Before: "variable GW_TOKEN is not set", a token_missing finding for a token the gateway has.
    writeConfig(`{ env: { vars: { GW_TOKEN: "from-config-env" } }, gateway: { auth: { token: "\${GW_TOKEN}" } } }`);
    expect(discoverOpenClaw({ HOME: home }).clientToken).toMatchObject({ source: "config gateway.auth.token", value: "from-config-env" });
    expect(discoverOpenClaw({ HOME: home, GW_TOKEN: "from-shell" }).clientToken).toMatchObject({ value: "from-shell" });
  });

  it("reports an unresolved ${VAR} or env SecretRef instead of sending a literal", () => {
    expect(resolveSecret("${MISSING_TOKEN}", {})).toEqual({ unresolved: "variable MISSING_TOKEN is not set", variables: ["MISSING_TOKEN"] });
    expect(resolveSecret("$${LITERAL}", {})).toEqual({ value: "${LITERAL}", variables: [] });
    expect(resolveSecret({ source: "env", provider: "default", id: "GW" }, { GW: "x" })).toEqual({ value: "x", variables: ["GW"] });
    expect(resolveSecret({ source: "exec", provider: "vault", id: "gw" }, {})?.unresolved).toMatch(/never runs secret providers/);
  });

  it("names the file and position of a config that does not parse", () => {
    writeConfig(`{ gateway: { port: 19001 `);
    const world = discoverOpenClaw({ HOME: home });
    expect(world.config.error).toContain(join(stateDir, "openclaw.json"));
    expect(world.config.error).toMatch(/invalid end of input at 1:\d+/);
    expect(world.port).toBe(DEFAULT_GATEWAY_PORT);
  });

  it("parses dotenv lines the way services write them", () => {
    expect(parseDotenv(`# c\nexport A=1\nB="two words"\nC=x # trailing\n bad line\nD=`)).toEqual({ A: "1", B: "two words", C: "x", D: "" });
  });
});
