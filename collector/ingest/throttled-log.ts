// A flood of bad streams must not become a flood of log lines: at most
// `perMinute` lines per key (a rejection reason) each minute; the next line
// after a quiet spell says how many were left out.
import type { Logger } from "../../shared/log.ts";

export type ThrottledWarn = (key: string, message: string, fields: Record<string, unknown>) => void;

export function throttledWarn(log: Logger, perMinute: number, now: () => number = Date.now): ThrottledWarn {
  const windows = new Map<string, { startedMs: number; lines: number; suppressed: number }>();
  return (key, message, fields) => {
    const nowMs = now();
    let w = windows.get(key);
    if (!w || nowMs - w.startedMs >= 60_000) {
      const suppressed = w?.suppressed ?? 0;
      w = { startedMs: nowMs, lines: 0, suppressed: 0 };
      windows.set(key, w);
      if (suppressed > 0) fields = { ...fields, suppressed_last_minute: suppressed };
    }
    if (w.lines >= perMinute) {
      w.suppressed++;
      return;
    }
    w.lines++;
    log.warn(message, w.lines === perMinute ? { ...fields, further: "suppressed for this minute" } : fields);
  };
}
