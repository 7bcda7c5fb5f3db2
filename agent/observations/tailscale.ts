// What tailscaled says about this node and its Serve config (LocalAPI).
import { readTailscale, type TailscaleReading } from "../discovery/tailscale-localapi.ts";
import { observation } from "./observation.ts";

/** LocalAPI answers in milliseconds; a wedged tailscaled gets 1.5 s per request (the reading says so). */
export const LOCALAPI_TIMEOUT_MS = 1500;

// Above the requests' own timeouts: finding the socket (macOS app discovery) and loading undici come first.
export const tailscaleReading = observation<TailscaleReading>("tailscale", 4000, [], (ctx) =>
  readTailscale({ env: ctx.world.env, platform: ctx.platform, runner: ctx.runner, signal: ctx.signal, timeoutMs: LOCALAPI_TIMEOUT_MS }),
);
