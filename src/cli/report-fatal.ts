import { describeFailure } from './describe-failure';

/**
 * Prints the error that ends a command (one line, see describe-failure.ts) and exits with its code. Exits at
 * once: a half-started service may hold handles that would keep the process alive.
 */
export function reportFatal(error: unknown, debug = false): never {
  const { text, exitCode } = describeFailure(error, debug);
  process.stderr.write(text);
  process.exit(exitCode);
}
