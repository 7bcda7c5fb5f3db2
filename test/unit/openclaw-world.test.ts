// Discovery follows the OpenClaw CLI: env paths, JSON5 config, ${VAR}
// substitution, env SecretRefs and the documented token precedence.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveSecret } from "../../agent/discovery/openclaw-config.ts";
import { parseDotenv } from "../../agent/discovery/openclaw-dotenv.ts";
import { DEFAULT_GATEWAY_PORT, discoverOpenClaw } from "../../agent/discovery/openclaw-world.ts";

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
