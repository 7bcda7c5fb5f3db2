// What tailscaled says about this node and its Serve config (LocalAPI).
import { readTailscale, type TailscaleReading } from "../discovery/tailscale-localapi.ts";
import { observation } from "./observation.ts";

/** LocalAPI answers in milliseconds; a wedged tailscaled gets 1.5 s. */
export const LOCALAPI_TIMEOUT_MS = 1500;

export const tailscaleReading = observation<TailscaleReading>("tailscale", LOCALAPI_TIMEOUT_MS + 500, [], (ctx) =>
  readTailscale({ env: ctx.world.env, platform: ctx.platform, runner: ctx.runner, signal: ctx.signal, timeoutMs: LOCALAPI_TIMEOUT_MS }),
);
