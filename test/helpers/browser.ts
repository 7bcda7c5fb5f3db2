// A real headless Chromium driven over the DevTools protocol (CDP) with Node's
// own WebSocket: no driver package, nothing downloaded. Debian's `chromium`
// (installed by .ci/run when missing) at /usr/bin/chromium, or CHROMIUM_PATH.
// Every call is bounded in time; close() ends the browser's whole process group.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Flags for a browser that talks to loopback only: the background-networking
 * family stops Chromium phoning home (updates, sync, field trials, QUIC probes).
 */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-extensions",
  "--disable-domain-reliability",
  "--disable-breakpad",
  "--metrics-recording-only",
  "--hide-scrollbars",
  "--mute-audio",
  "--remote-debugging-address=127.0.0.1",
  "--remote-debugging-port=0",
];

const CALL_TIMEOUT_MS = 15_000;

export interface Viewport {
  width: number;
  height: number;
  /** Phone emulation: touch, mobile viewport rules, overlay scrollbars. */
  mobile?: boolean;
  colorScheme?: "light" | "dark";
  /** false: the page's own scripts do not run (DevTools evaluation still does). */
  javaScript?: boolean;
}

export interface LogEntry {
  source: string;
  level: string;
  text: string;
}

export interface Page {
  goto(url: string): Promise<void>;
  /** Evaluates an expression (or a function's source, called with no arguments) in the page; returns its JSON value. */
  evaluate<T>(expression: string | (() => unknown)): Promise<T>;
  /** Polls `expression` until it is truthy. */
  waitFor(expression: string, timeoutMs?: number): Promise<void>;
  setViewport(viewport: Viewport): Promise<void>;
  /** A PNG of the viewport (or the whole page), written to `path`. */
  screenshot(path: string, options?: { fullPage?: boolean }): Promise<void>;
  /** Console messages, uncaught exceptions and browser log entries (CSP violations land here). */
  readonly log: readonly LogEntry[];
  close(): Promise<void>;
}

export interface Browser {
  newPage(viewport: Viewport): Promise<Page>;
  close(): Promise<void>;
}

type Pending = { resolve: (value: any) => void; reject: (error: Error) => void; timer: NodeJS.Timeout; method: string };
type Listener = (params: any, sessionId?: string) => void;

class CdpConnection {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Map<string, Set<Listener>>();
  #nextId = 1;
  #closed = false;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.addEventListener("message", (event) => this.#onMessage(String(event.data)));
    socket.addEventListener("close", () => {
      this.#closed = true;
      for (const p of this.#pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`browser connection closed during ${p.method}`));
      }
      this.#pending.clear();
    });
  }

  static open(url: string): Promise<CdpConnection> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      const timer = setTimeout(() => reject(new Error(`no DevTools connection to ${url} within ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
      socket.addEventListener("open", () => (clearTimeout(timer), resolve(new CdpConnection(socket))), { once: true });
      socket.addEventListener("error", () => (clearTimeout(timer), reject(new Error(`cannot connect to DevTools at ${url}`))), { once: true });
    });
  }

  send<T = any>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    if (this.#closed) return Promise.reject(new Error(`browser connection closed before ${method}`));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`DevTools call ${method} got no answer within ${CALL_TIMEOUT_MS} ms`));
      }, CALL_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer, method });
      this.#socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  on(method: string, listener: Listener): () => void {
    let set = this.#listeners.get(method);
    if (!set) this.#listeners.set(method, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  close(): void {
    if (!this.#closed) this.#socket.close();
  }

  #onMessage(data: string): void {
    const message = JSON.parse(data) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: unknown; sessionId?: string };
    if (message.id !== undefined) {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.error) pending.reject(new Error(`${pending.method}: ${message.error.message}`));
      else pending.resolve(message.result);
      return;
    }
    if (message.method) for (const listener of this.#listeners.get(message.method) ?? []) listener(message.params, message.sessionId);
  }
}

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export async function launchChromium(): Promise<Browser> {
  if (!chromiumAvailable()) throw new Error(`no Chromium at ${CHROMIUM_PATH}: install Debian's \`chromium\` (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`);
  const profile = mkdtempSync(join(tmpdir(), "clawfleet-chromium-"));
  // Own process group, so close() can end the renderers and zygotes too.
  const child: ChildProcess = spawn(CHROMIUM_PATH, [...FLAGS, `--user-data-dir=${profile}`, "about:blank"], { stdio: ["ignore", "ignore", "pipe"], detached: true });
  let stderr = "";
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Chromium did not open DevTools within 20 s:\n${stderr.slice(-2000)}`)), 20_000);
    child.stderr!.on("data", (chunk) => {
      stderr += chunk;
      const match = stderr.match(/DevTools listening on (ws:\/\/\S+)/);
      if (match) (clearTimeout(timer), resolve(match[1]!));
    });
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`Chromium exited (${code}) before opening DevTools:\n${stderr.slice(-2000)}`))));
  }).catch((error) => {
    killGroup(child);
    rmSync(profile, { recursive: true, force: true });
    throw error;
  });
  const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", () => resolve())));
  const cdp = await CdpConnection.open(endpoint);

  return {
    async newPage(viewport) {
      const { targetId } = await cdp.send<{ targetId: string }>("Target.createTarget", { url: "about:blank" });
      const { sessionId } = await cdp.send<{ sessionId: string }>("Target.attachToTarget", { targetId, flatten: true });
      return openPage(cdp, targetId, sessionId, viewport);
    },
    async close() {
      await cdp.send("Browser.close").catch(() => undefined);
      cdp.close();
      const timer = setTimeout(() => killGroup(child), 5000);
      await exited;
      clearTimeout(timer);
      killGroup(child); // stragglers in the group (zygote, crashpad)
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

async function openPage(cdp: CdpConnection, targetId: string, sessionId: string, initial: Viewport): Promise<Page> {
  const log: LogEntry[] = [];
  const send = <T = any>(method: string, params: object = {}) => cdp.send<T>(method, params, sessionId);
  const mine = (listener: Listener): Listener => (params, from) => {
    if (from === sessionId) listener(params);
  };
  cdp.on("Runtime.consoleAPICalled", mine((p) => log.push({ source: "console", level: p.type, text: (p.args ?? []).map((a: { value?: unknown; description?: string }) => a.value ?? a.description ?? "").join(" ") })));
  cdp.on("Runtime.exceptionThrown", mine((p) => log.push({ source: "exception", level: "error", text: p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text ?? "exception" })));
  cdp.on("Log.entryAdded", mine((p) => log.push({ source: p.entry.source, level: p.entry.level, text: p.entry.text })));
  await Promise.all([send("Page.enable"), send("Runtime.enable"), send("Log.enable")]);

  const evaluate = async <T>(expression: string | (() => unknown)): Promise<T> => {
    const source = typeof expression === "function" ? `(${expression.toString()})()` : expression;
    const result = await send<{ result: { value?: T }; exceptionDetails?: { text: string; exception?: { description?: string } } }>("Runtime.evaluate", {
      expression: source,
      returnByValue: true,
      awaitPromise: true,
    });
    if (result.exceptionDetails) throw new Error(`in page: ${result.exceptionDetails.exception?.description ?? result.exceptionDetails.text}`);
    return result.result.value as T;
  };

  const setViewport = async (v: Viewport) => {
    await send("Emulation.setDeviceMetricsOverride", { width: v.width, height: v.height, deviceScaleFactor: 1, mobile: v.mobile ?? false });
    await send("Emulation.setTouchEmulationEnabled", { enabled: v.mobile ?? false });
    await send("Emulation.setEmulatedMedia", { features: [{ name: "prefers-color-scheme", value: v.colorScheme ?? "light" }] });
    await send("Emulation.setScriptExecutionDisabled", { value: v.javaScript === false });
  };
  await setViewport(initial);

  return {
    log,
    evaluate,
    setViewport,
    async goto(url) {
      const loaded = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => (off(), reject(new Error(`${url} did not finish loading within ${CALL_TIMEOUT_MS} ms`))), CALL_TIMEOUT_MS);
        const off = cdp.on("Page.loadEventFired", mine(() => (clearTimeout(timer), off(), resolve())));
      });
      const result = await send<{ errorText?: string }>("Page.navigate", { url });
      if (result.errorText) throw new Error(`cannot load ${url}: ${result.errorText}`);
      await loaded;
    },
    async waitFor(expression, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (await evaluate<unknown>(expression)) return;
        if (Date.now() > deadline) throw new Error(`page never satisfied \`${expression}\` within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async screenshot(path, options = {}) {
      // A background tab produces no frames: the capture would wait forever.
      await send("Page.bringToFront");
      let clip: object | undefined;
      if (options.fullPage) {
        const size = await evaluate<{ width: number; height: number }>("({ width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight })");
        clip = { x: 0, y: 0, width: size.width, height: size.height, scale: 1 };
      }
      const { data } = await send<{ data: string }>("Page.captureScreenshot", { format: "png", ...(clip ? { clip, captureBeyondViewport: true } : {}) });
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, Buffer.from(data, "base64"));
    },
    async close() {
      await cdp.send("Target.closeTarget", { targetId }).catch(() => undefined);
    },
  };
}
