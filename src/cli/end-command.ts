import { EXIT_FAILED, EXIT_OK, type CliIo } from './cli-io';
import { describeFailure, failureLine } from './describe-failure';

/**
 * The work failed, and the command has printed its report (on stdout): the reason, told in one line on
 * stderr so that a caller who reads only stderr and the exit code (1) knows why.
 */
export interface WorkFailure {
  code: string;
  message: string;
}

/**
 * Runs a command's work and ends the command: exit 0 when it is done, 1 with one line on stderr when it
 * returns a failure, and, when it throws, the failure told in one line (describe-failure.ts) with its exit
 * code.
 */
export async function endCommand(
  io: CliIo,
  debug: boolean,
  work: () => Promise<WorkFailure | undefined>,
): Promise<void> {
  let code: number;
  try {
    const failure = await work();
    if (failure !== undefined) io.stderr(failureLine(failure.code, failure.message));
    code = failure === undefined ? EXIT_OK : EXIT_FAILED;
  } catch (error) {
    const failure = describeFailure(error, debug);
    io.stderr(failure.text);
    code = failure.exitCode;
  }
  // Outside the try: a test's `exit` may throw to stop the command, and that is no failure to describe.
  io.exit(code);
}
