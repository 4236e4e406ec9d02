import { types } from 'node:util';
import { ECHO_LIMIT, TidemarkError, echoInput } from '../lib/errors';

/** How a failure that ends a command is told, and the exit code it ends with. */
export interface FailureReport {
  /** One line, `tidemark: CODE: message` (plus the stack with `--debug`), ending in a newline. */
  text: string;
  /** 2 when the caller asked wrongly (bad usage, bad configuration), 1 when the work failed. */
  exitCode: 1 | 2;
}

/**
 * The longest message a failure line carries. Ours name the caller's input cut at ECHO_LIMIT; this bounds
 * text we do not compose (a library's message). --debug prints it all.
 */
export const MESSAGE_LIMIT = 8 * ECHO_LIMIT;

/**
 * Every CLI and start-up failure is one clear line with a stable code; a stack trace only when asked
 * for (`--debug`). Errors of Node itself (a port in use, a missing file) are named, not dumped.
 */
export function describeFailure(error: unknown, debug = false): FailureReport {
  const failure = asTidemarkError(error);
  let text = failureLine(failure.code, failure.message);
  if (debug) text += `${isError(error) ? (error.stack ?? '') : String(error)}\n`;
  else if (failure.code === 'INTERNAL') text += 'tidemark: (run again with --debug for the stack trace)\n';
  return { text, exitCode: failure.kind === 'invalid' ? 2 : 1 };
}

/**
 * `tidemark: CODE: message` and a newline: how every failure of a command is told on stderr. Always one line
 * — a message's line breaks (a YAML error's excerpt, a path with a newline) become spaces, other control
 * characters are escaped — and at most MESSAGE_LIMIT characters of message.
 */
export function failureLine(code: string, message: string): string {
  let line = escapeControlCharacters(message.replace(/\s*[\r\n]+\s*/g, ' '));
  if (line.length > MESSAGE_LIMIT) line = `${line.slice(0, MESSAGE_LIMIT)}… (${line.length} characters)`;
  return `tidemark: ${code}: ${line}\n`;
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/** Control characters as JSON writes them (`\n`, `\u001b`): a caller's input shown in a line stays one line. */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (c) => JSON.stringify(c).slice(1, -1));
}

/** An Error of this realm or another (a vm context, as under jest): Node's own errors are not `instanceof` ours. */
function isError(error: unknown): error is Error {
  return error instanceof Error || types.isNativeError(error);
}

function asTidemarkError(error: unknown): TidemarkError {
  if (error instanceof TidemarkError) return error;
  const errno = error as Partial<NodeJS.ErrnoException> & { address?: string; port?: number };
  if (isError(error) && typeof errno.code === 'string' && typeof errno.syscall === 'string') {
    const at = errno.path ?? (errno.address === undefined ? '' : `${errno.address}:${errno.port}`);
    const where = echoInput(at);
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
  return new TidemarkError('INTERNAL', `internal error: ${isError(error) ? error.message : String(error)}`);
}
