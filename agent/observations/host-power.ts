// Power facts (pmset/sysctl on macOS, logind/sysfs on Linux), one set of commands per run.
import { readPowerFacts, type PowerFacts } from "../platform/power-facts.ts";
import { observation } from "./observation.ts";

export const powerFacts = observation<PowerFacts>("power-facts", 2200, [], (ctx) => readPowerFacts({ runner: ctx.runner, platform: ctx.platform, signal: ctx.signal, linuxTracker: ctx.caches.suspendTracker, linuxSleepTargets: ctx.caches.sleepTargets }));
