// Reads a Prometheus text exposition into `name{label="v",…}` → value.

export type Samples = Map<string, number>;

export async function scrape(httpAddress: string): Promise<Samples> {
  const response = await fetch(`http://${httpAddress}/metrics`);
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  return parseExposition(await response.text());
}

export function parseExposition(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (match) samples.set(`${match[1]}${match[2] ?? ""}`, Number(match[3]));
  }
  return samples;
}

/** Key for one series, labels in the order the exposition prints them. */
export function series(name: string, labels: Record<string, string>): string {
  const inner = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(",");
  return inner ? `${name}{${inner}}` : name;
}

/** Polls until predicate(samples) holds; returns the samples and how long it took. */
export async function waitForMetrics(httpAddress: string, predicate: (s: Samples) => boolean, timeoutMs = 30_000): Promise<{ samples: Samples; elapsedMs: number }> {
  const started = Date.now();
  let last: Samples = new Map();
  while (Date.now() - started < timeoutMs) {
    try {
      last = await scrape(httpAddress);
      if (predicate(last)) return { samples: last, elapsedMs: Date.now() - started };
    } catch {
      // Collector not up yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const relevant = [...last].filter(([k]) => k.startsWith("clawfleet_") && !k.startsWith("clawfleet_collector_process")).map(([k, v]) => `${k} ${v}`).join("\n");
  throw new Error(`metrics condition not met within ${timeoutMs} ms; last scrape:\n${relevant}`);
}
