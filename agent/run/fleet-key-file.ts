// The fleet fingerprint key the collector issued, kept (0600) so an agent that
// restarts while the collector is away still fingerprints with it. Until an
// agent has a key it makes no report: an unkeyed hash of a weak secret on the
// wire could be brute-forced by whoever reads the collector's database.
import { mkdirSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../../shared/atomic-file.ts";
import { dirname } from "node:path";

export function readFleetKey(path: string): Uint8Array | undefined {
  try {
    const key = readFileSync(path);
    return key.length >= 16 ? key : undefined;
  } catch {
    return undefined;
  }
}

export function writeFleetKey(path: string, key: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileAtomic(path, key, 0o600);
}
