// Every check the agent runs, in one list: a new check is a new file and a line here.
import type { Check } from "./check.ts";
import { gatewayCheck } from "./gateway.ts";
import { providerCheck } from "./provider.ts";
import { sessionCheck } from "./session.ts";
import { tunnelCheck } from "./tunnel.ts";
import { driftCheck } from "./drift.ts";
import { baselineCheck } from "./baseline.ts";
import { powerCheck } from "./power.ts";
import { restartsCheck } from "./restarts.ts";
import { startupCheck } from "./startup.ts";

export const ALL_CHECKS: readonly Check[] = [gatewayCheck, startupCheck, restartsCheck, sessionCheck, providerCheck, tunnelCheck, driftCheck, powerCheck, baselineCheck];
