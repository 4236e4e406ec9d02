import { TidemarkError } from '../errors';

/** How a failure that ends a command is told, and the exit code it ends with. */
export interface FailureReport {
  /** One line, `tidemark: CODE: message` (plus the stack with `--debug`), ending in a newline. */
  text: string;
  /** 2 when the caller asked wrongly (bad usage, bad configuration), 1 when the work failed. */
  exitCode: 1 | 2;
}

/**
 * Every CLI and start-up failure is one clear line with a stable code; a stack trace only when asked
 * for (`--debug`). Errors of Node itself (a port in use, a missing file) are named, not dumped.
 */
export function describeFailure(error: unknown, debug = false): FailureReport {
  const failure = asTidemarkError(error);
  let text = failureLine(failure.code, failure.message);
  if (debug) text += `${error instanceof Error ? (error.stack ?? '') : String(error)}\n`;
  else if (failure.code === 'INTERNAL') text += 'tidemark: (run again with --debug for the stack trace)\n';
  return { text, exitCode: failure.kind === 'invalid' ? 2 : 1 };
}

/** `tidemark: CODE: message` and a newline: how every failure of a command is told on stderr. */
export function failureLine(code: string, message: string): string {
  return `tidemark: ${code}: ${message}\n`;
}

function asTidemarkError(error: unknown): TidemarkError {
  if (error instanceof TidemarkError) return error;
  const errno = error as Partial<NodeJS.ErrnoException> & { address?: string; port?: number };
  if (error instanceof Error && typeof errno.code === 'string' && typeof errno.syscall === 'string') {
    const where = errno.path ?? (errno.address === undefined ? '' : `${errno.address}:${errno.port}`);
    const fail = (code: ConstructorParameters<typeof TidemarkError>[0], message: string) =>
      new TidemarkError(code, message, { cause: error, details: { errno: errno.code, path: errno.path } });
    switch (errno.code) {
      case 'EADDRINUSE':
        return fail(
          'ADDRESS_IN_USE',
          `cannot listen on ${where}: another process listens there (set PORT or server.port)`,
        );
      case 'EADDRNOTAVAIL':
        return fail(
          'CONFIG_INVALID',
          `cannot listen on ${where}: no such address on this machine (server.host)`,
        );
      case 'ENOENT':
        return fail('NOT_FOUND', `${where}: no such file or directory`);
      case 'EACCES':
      case 'EPERM':
        return fail('IO_ERROR', `${where}: permission denied (${errno.syscall})`);
      case 'ENOSPC':
        return fail('DISK_FULL', `${where}: no space left on the device`);
      default:
        return fail('IO_ERROR', `${errno.syscall} ${where}: ${errno.code}`);
    }
  }
  return new TidemarkError(
    'INTERNAL',
    `internal error: ${error instanceof Error ? error.message : String(error)}`,
  );
}
