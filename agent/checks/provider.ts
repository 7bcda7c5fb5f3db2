// Provider layer: placeholder until the full check lands (kept type-checking for ALL_CHECKS).
import { skipped, type Finding } from "../../shared/finding.ts";
import type { Check } from "./check.ts";

export const providerCheck: Check = {
  name: "provider",
  layer: "provider",
  deadlineMs: 2000,
  async run(): Promise<Finding[]> {
    return [skipped("provider", "provider", "Provider check not implemented yet.")];
  },
};
