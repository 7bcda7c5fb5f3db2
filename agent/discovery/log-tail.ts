// The last lines of a log file, read from its end within a byte budget, never
// the whole file: a gateway log can be 100 MB before OpenClaw rotates it.
// Opened read-only and non-blocking (a FIFO where a log should be must not
// hang the agent); nothing is created, truncated or rotated.
import { constants } from "node:fs";
import { open } from "node:fs/promises";

export interface TailRead {
  /** Complete lines, oldest first; a last line still being written is included. */
  lines: string[];
  mtimeMs: number;
  size: number;
  /** The budget cut the start of the file off. */
  truncated: boolean;
}

export async function readTail(path: string, maxBytes: number): Promise<TailRead> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: "ENOTFILE" });
    const start = Math.max(0, info.size - maxBytes);
    const length = info.size - start;
    const buffer = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const { bytesRead } = await handle.read(buffer, read, length - read, start + read);
      if (bytesRead === 0) break; // truncated under us: keep what we have
      read += bytesRead;
    }
    let text = buffer.subarray(0, read).toString("utf8");
    // Starting mid-file lands mid-line (and maybe mid-character): drop that first fragment.
    if (start > 0) {
      const newline = text.indexOf("\n");
      text = newline < 0 ? "" : text.slice(newline + 1);
    }
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    return { lines: lines.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l)), mtimeMs: info.mtimeMs, size: info.size, truncated: start > 0 };
  } finally {
    await handle.close();
  }
}
