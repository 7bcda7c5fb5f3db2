// Finds the gateway's service definition(s) on this host: launchd LaunchAgents
// on macOS, systemd user units on Linux. Several can exist (profiles, a stale
// legacy unit); each comes back with what its manager says about it.
import { findLaunchdServices } from "./launchd-service.ts";
import { findSystemdServices } from "./systemd-service.ts";
import type { ServiceDefinition, ServiceDiscoveryInput } from "./gateway-service.ts";

/**
 * A definition that could not be read or is broken in a way the manager will
 * refuse (malformed plist, missing required EnvironmentFile=, env file without
 * OpenClaw's header…). Messages name the file or command and never carry
 * values from it: checks can put them in evidence as they are.
 */
export interface ServiceDiscoveryError {
  manager: "launchd" | "systemd";
  /** Label or unit the error is about. */
  name: string;
  path?: string;
  message: string;
}

export interface ServiceDiscovery {
  services: ServiceDefinition[];
  errors: ServiceDiscoveryError[];
}

/** Services and the problems met finding them; never throws for bad input on disk or bad command output. */
export async function discoverGatewayServices(input: ServiceDiscoveryInput, platform: NodeJS.Platform): Promise<ServiceDiscovery> {
  if (platform === "darwin") return findLaunchdServices(input);
  if (platform === "linux") return findSystemdServices(input);
  return { services: [], errors: [] };
}

/** The contract the checks use: the definitions only (see `discoverGatewayServices` for the errors). */
export async function findGatewayServices(input: ServiceDiscoveryInput, platform: NodeJS.Platform): Promise<ServiceDefinition[]> {
  return (await discoverGatewayServices(input, platform)).services;
}
