// Terminal styling: colour only when writing to a TTY and NO_COLOR is unset.
import { styleText } from "node:util";

export type Paint = (format: Parameters<typeof styleText>[0], text: string) => string;

export function painter(stream: NodeJS.WriteStream): Paint {
  const colour = stream.isTTY === true && !process.env.NO_COLOR;
  return colour ? (format, text) => styleText(format, text, { validateStream: false }) : (_format, text) => text;
}

export const STATUS_COLOUR = { ok: "green", warn: "yellow", fail: "red", skip: "gray", error: "magenta", unknown: "magenta" } as const;
