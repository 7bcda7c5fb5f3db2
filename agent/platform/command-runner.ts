// Every platform command (pmset, sysctl, launchctl, systemctl, ps, lsof) goes
// through one runner: no shell, a deadline on each call, and in tests a replay
// of recorded output through the same interface.
import { execFile } from "node:child_process";

export interface CommandResult {
  /** Process exit status; 127 when the command does not exist, 124 when it timed out. */
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export interface CommandRunner {
  run(command: string, args: readonly string[], options?: RunOptions): Promise<CommandResult>;
}

const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

export const systemRunner: CommandRunner = {
  run(command, args, options = {}) {
    return new Promise((resolve) => {
      execFile(
        command,
        [...args],
        { timeout: options.timeoutMs ?? 2000, signal: options.signal, env: options.env, maxBuffer: MAX_OUTPUT_BYTES, encoding: "utf8" },
        (error, stdout, stderr) => {
          if (!error) return resolve({ exitCode: 0, stdout, stderr });
          const e = error as NodeJS.ErrnoException & { code?: string | number; killed?: boolean };
          if (e.code === "ENOENT") return resolve({ exitCode: 127, stdout: "", stderr: `${command}: not found` });
          if (e.killed || e.name === "AbortError") return resolve({ exitCode: 124, stdout, stderr: stderr || `${command}: timed out` });
          resolve({ exitCode: typeof e.code === "number" ? e.code : 1, stdout, stderr });
        },
      );
    });
  },
};

/** One recorded command: what it printed and how it exited. */
export interface Recording {
  stdout?: string;
  stderr?: string;
  exitCode?: number;
}

/**
 * Replays recorded output, keyed by the command line ("pmset -g assertions").
 * A command without a recording behaves as if it were not installed (127), so
 * a test names every command its world has.
 */
export function replayRunner(recordings: Readonly<Record<string, Recording>>, calls: string[] = []): CommandRunner {
  return {
    async run(command, args) {
      const key = [command, ...args].join(" ");
      calls.push(key);
      const recording = recordings[key];
      if (!recording) return { exitCode: 127, stdout: "", stderr: `${command}: not found` };
      return { exitCode: recording.exitCode ?? 0, stdout: recording.stdout ?? "", stderr: recording.stderr ?? "" };
    },
  };
}
