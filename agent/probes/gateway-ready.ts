// GET /readyz on loopback: 200 {"ready":true} once the gateway has started;
// it answers without auth on loopback.

export interface ReadyResult {
  httpStatus?: number;
  ready: boolean;
  failing: string[];
  error?: string;
}

export async function probeReady(port: number, signal: AbortSignal): Promise<ReadyResult> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal });
    const body = (await response.json().catch(() => ({}))) as { ready?: unknown; failing?: unknown };
    const failing = Array.isArray(body.failing) ? body.failing.map(String) : [];
    return { httpStatus: response.status, ready: response.ok && body.ready === true, failing };
  } catch (error) {
    return { ready: false, failing: [], error: (error as Error).message };
  }
}
