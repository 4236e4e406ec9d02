import type { Command } from 'commander';
import { ECHO_LIMIT, invalidArgument } from '../lib/errors';
import { EXIT_OK, EXIT_USAGE, type CliIo } from './cli-io';
import { describeFailure, escapeControlCharacters } from './describe-failure';

/**
 * Commander's own output goes to `io`, and its usage errors (an unknown option or command, a missing value)
 * are told as ours are — one line `tidemark: INVALID_ARGUMENT: …`, exit 2. Set on a command before its
 * subcommands are added: they inherit it.
 */
export function reportUsageErrors<C extends Command>(command: C, io: CliIo): C {
  command
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      // Commander would ask the process's stdout, which need not be where `io` writes.
      getOutHelpWidth: () => io.columns ?? 80,
      getErrHelpWidth: () => io.columns ?? 80,
      outputError: (text, write) => write(describeFailure(invalidArgument(usageMessage(text))).text),
    })
    .exitOverride((error) => {
      io.exit(error.exitCode === 0 ? EXIT_OK : EXIT_USAGE);
      throw error; // reached only when `exit` returns (tests): commander must not go on
    });
  return command;
}

/** `error: unknown option '--pth'\n(Did you mean --path?)` */
const UNKNOWN = /^error: (unknown (?:option|command)) '([\s\S]*)'(?:\n\((Did you mean [^\n]*\?)\))?\n?$/;

/**
 * Commander's message on one line, without its `error: `. The word it did not know is the caller's: shown
 * with control characters escaped and cut at ECHO_LIMIT characters (a 10 KB option is not repeated whole).
 */
export function usageMessage(text: string): string {
  const unknown = UNKNOWN.exec(text);
  if (unknown) {
    const [, what, word = '', suggestion] = unknown;
    const shown = escapeControlCharacters(word.slice(0, ECHO_LIMIT));
    const cut = word.length > ECHO_LIMIT ? `…' (${word.length} characters)` : "'";
    return `${what} '${shown}${cut}${suggestion === undefined ? '' : ` (${suggestion.toLowerCase()})`}`;
  }
  return text
    .replace(/^error: /, '')
    .trim()
    .replace(/\s*\n\s*/g, ' ');
}
