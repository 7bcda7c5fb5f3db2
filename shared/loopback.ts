/** 127.0.0.0/8, ::1 or localhost: reachable from this host only. */
export function isLoopbackHost(host: string): boolean {
  return /^(127\.|::1$|localhost$)/.test(host);
}
