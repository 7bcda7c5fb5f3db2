import { join } from "node:path";
import { freePort } from "./ports.ts";

/** An agent environment with no gateway: it reports "gateway not_running", which is a report like any other. */
export const noGateway = async (home: string) => ({ HOME: home, OPENCLAW_STATE_DIR: join(home, ".openclaw"), OPENCLAW_GATEWAY_PORT: String(await freePort()) });
