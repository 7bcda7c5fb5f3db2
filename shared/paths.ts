// Where clawfleet keeps its files when not told: the platform's data directory.
import { homedir } from "node:os";
import { join } from "node:path";

export function dataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.CLAWFLEET_DATA_DIR) return env.CLAWFLEET_DATA_DIR;
  const home = env.HOME || homedir();
  if (platform === "darwin") return join(home, "Library", "Application Support", "clawfleet");
  return join(env.XDG_STATE_HOME || join(home, ".local", "state"), "clawfleet");
}
