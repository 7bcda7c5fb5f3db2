// A file replaced whole: written beside its final name, then renamed over it,
// so a crash leaves the old file or the new one, never half of either. The mode
// is set on the temporary file explicitly: writeFileSync's mode applies only
// when it creates the file, and a leftover .tmp from a crash may have another.
import { chmodSync, renameSync, rmSync, writeFileSync } from "node:fs";

export function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): void {
  const temporary = `${path}.tmp`;
  try {
    writeFileSync(temporary, data, { mode });
    chmodSync(temporary, mode);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
