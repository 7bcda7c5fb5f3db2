// Times an agent sends (Unix ms) are stored and shown: one far outside any
// real clock (8.64e15 + 1 is past what a JavaScript Date can hold) would break
// every page and sum that reads it. 0 means "unknown" and is always fine.
const EARLIEST_MS = Date.UTC(2000, 0, 1);
const LATEST_MS = Date.UTC(2200, 0, 1);

/** Undefined when `unixMs` is 0 or a plausible wall-clock time, else what is wrong with it. */
export function checkTimestamp(unixMs: bigint): string | undefined {
  if (unixMs === 0n) return undefined;
  if (unixMs < BigInt(EARLIEST_MS) || unixMs >= BigInt(LATEST_MS)) return `${unixMs} is not a time between 2000 and 2200 (Unix ms), nor 0 for unknown`;
  return undefined;
}
