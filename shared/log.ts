// One-line logs on stderr: `time level msg key=value…`. Callers pass
// fingerprints, never secrets; values are quoted when they contain spaces.
export type LogLevel = "debug" | "info" | "warn" | "error";
export type Logger = Record<LogLevel, (message: string, fields?: Record<string, unknown>) => void>;

export function createLogger(component: string, stream: NodeJS.WritableStream = process.stderr, minLevel: LogLevel = "info"): Logger {
  const order: LogLevel[] = ["debug", "info", "warn", "error"];
  const write = (level: LogLevel) => (message: string, fields: Record<string, unknown> = {}) => {
    if (order.indexOf(level) < order.indexOf(minLevel)) return;
    const kv = Object.entries(fields).map(([k, v]) => `${k}=${quote(String(v))}`).join(" ");
    stream.write(`${new Date().toISOString()} ${level.padEnd(5)} ${component}: ${message}${kv ? " " + kv : ""}\n`);
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

function quote(value: string): string {
  return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
}
