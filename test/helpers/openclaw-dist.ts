// OpenClaw's own functions, loaded from the pinned package's dist/ (test/openclaw),
// for parity tests. The bundle's chunk files carry a content hash and export
// minified aliases, so a function is found by its chunk's name and its own
// function name: a moved or renamed function fails loudly here, never silently.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export const OPENCLAW_DIST = join(import.meta.dirname, "..", "openclaw", "node_modules", "openclaw", "dist");

/** The function named `name` exported by the dist chunk `<chunk>-<hash>.mjs`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function openclawFunction<T extends (...args: any[]) => unknown>(chunk: string, name: string): Promise<T> {
  const files = readdirSync(OPENCLAW_DIST).filter((f) => new RegExp(`^${chunk}-[\\w-]{8}\\.mjs$`).test(f));
  for (const file of files) {
    const module = (await import(pathToFileURL(join(OPENCLAW_DIST, file)).href)) as Record<string, unknown>;
    const found = Object.values(module).find((value) => typeof value === "function" && value.name === name);
    if (found) return found as T;
  }
  throw new Error(`openclaw dist has no ${name} in ${chunk}-*.mjs (${files.join(", ") || "no such chunk"}): the pinned package moved it`);
}
