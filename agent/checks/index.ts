// Every check the agent runs, in one list: a new check is a new file and a line here.
import type { Check } from "./check.ts";
import { gatewayCheck } from "./gateway.ts";
import { sessionCheck } from "./session.ts";

export const ALL_CHECKS: readonly Check[] = [gatewayCheck, sessionCheck];
