import type { CliIo } from './cli-io';
import { describeFailure } from './describe-failure';

/**
 * Runs a command's work and ends the command: with the exit code the work returns, or, when it throws,
 * with the failure told in one line on stderr (describe-failure.ts) and its exit code.
 */
export async function endCommand(io: CliIo, debug: boolean, work: () => Promise<number>): Promise<void> {
  let code: number;
  try {
    code = await work();
  } catch (error) {
    const failure = describeFailure(error, debug);
    io.stderr(failure.text);
    code = failure.exitCode;
  }
  // Outside the try: a test's `exit` may throw to stop the command, and that is no failure to describe.
  io.exit(code);
}
