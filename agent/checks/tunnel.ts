// Tunnel layer: placeholder while the full check is built; exports the shape ALL_CHECKS imports.
import { skipped, type Finding } from "../../shared/finding.ts";
import type { Check } from "./check.ts";

export const tunnelCheck: Check = {
  name: "tunnel",
  layer: "tunnel",
  deadlineMs: 5000,
  async run(): Promise<Finding[]> {
    return [skipped("tunnel", "tunnel", "Tunnel check not implemented yet.")];
  },
};
