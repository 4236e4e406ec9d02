/**
 * Where a command talks to and how it ends: the process's streams, environment and exit unless a test
 * passes its own (commands that write to `process.stdout` or call `process.exit` themselves cannot be run
 * in process).
 */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Ends the command with this exit code (in a test it may return: the command must then stop itself). */
  exit: (code: number) => void;
  /** The environment the configuration is read from. */
  env: Readonly<Record<string, string | undefined>>;
  /** The width help is wrapped to: a terminal's; 80 when not given (as commander does). */
  columns?: number;
}

/** Exit codes of every command: done, the work failed, bad usage or configuration. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    // stdout and stderr are written synchronously on Linux (files, pipes, terminals): nothing is lost.
    exit: (code) => process.exit(code),
    env: process.env,
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
  };
}
