// A thousand collector links would each log their connects and outages; the
// simulator folds them into one line per message every interval instead
// ("312 nodes: cannot reach the collector"), keeping one example's fields.
import type { Logger } from "../../shared/log.ts";

export interface FoldedLog {
  /** The logger every node's link writes to. */
  link: Logger;
  /** Writes what was folded since the last flush. */
  flush(): void;
}

export function foldedLinkLog(log: Logger): FoldedLog {
  const folded = new Map<string, { level: "warn" | "error"; count: number; example: Record<string, unknown> }>();
  const fold = (level: "warn" | "error") => (message: string, fields: Record<string, unknown> = {}) => {
    const entry = folded.get(message);
    if (entry) entry.count++;
    else folded.set(message, { level, count: 1, example: fields });
  };
  return {
    // Connects and reconnect plans are the normal life of a link: debug only.
    link: { debug: log.debug, info: log.debug, warn: fold("warn"), error: fold("error") },
    flush() {
      for (const [message, { level, count, example }] of folded) log[level](`${count} node${count === 1 ? "" : "s"}: ${message}`, example);
      folded.clear();
    },
  };
}
