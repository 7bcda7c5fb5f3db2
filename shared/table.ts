// Aligned text tables for people: the last column is never padded.
import type { Paint } from "./style.ts";

export function table(header: readonly string[], rows: readonly (readonly string[])[], paint: Paint, colour?: (row: readonly string[], column: number) => Parameters<Paint>[0] | undefined): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[], row?: readonly string[]) =>
    cells
      .map((cell, i) => {
        const padded = i === cells.length - 1 ? cell : cell.padEnd(widths[i]!);
        const style = row && colour?.(row, i);
        return style ? paint(style, padded) : padded;
      })
      .join("  ")
      .trimEnd();
  return [paint("bold", line(header)), ...rows.map((r) => line(r, r))].join("\n") + "\n";
}
