import { hostname } from "node:os";

export interface NodeInfo {
  id: string;
  hostname: string;
  platform: string;
}

/** The fleet key of this host: --node-id, else CLAWFLEET_NODE_ID, else the short hostname. */
export function nodeInfo(explicitId?: string, env: NodeJS.ProcessEnv = process.env): NodeInfo {
  const host = hostname();
  const id = explicitId ?? env.CLAWFLEET_NODE_ID ?? (host.split(".")[0]!.toLowerCase().replace(/[^a-z0-9._-]/g, "-") || "node");
  return { id, hostname: host, platform: process.platform };
}
