import { TidemarkError } from '../errors';

/**
 * Prints an error that ends a command and makes the process exit non-zero. A TidemarkError shows its code
 * and message (`CONFIG_INVALID: invalid configuration: wal.segmentSize (…): …`); anything else its stack.
 * Exits at once: a half-started service may hold handles that would keep the process alive.
 */
export function reportFatal(error: unknown): never {
  const text =
    error instanceof TidemarkError
      ? `tidemark: ${error.code}: ${error.message}`
      : `tidemark: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  process.stderr.write(`${text}\n`);
  process.exit(1);
}
