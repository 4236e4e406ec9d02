import { CommanderError } from 'commander';
import type { RecoverIo } from './recover-run';
import { describeFailure } from './describe-failure';
import { buildProgram } from './program';

/**
 * Runs `tidemark <args>` against `io`. Every way it ends goes through `io.exit`: commander's own (help,
 * version, usage errors: usage-errors.ts), a command's exit code, or a failure no command caught, told in one
 * line (describe-failure.ts). A command that keeps running (serve) returns without an exit.
 */
export async function runCli(args: readonly string[], io: RecoverIo): Promise<void> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return; // told and exited already (a test's exit returned)
    const failure = describeFailure(error, program.opts().debug === true);
    io.stderr(failure.text);
    io.exit(failure.exitCode);
  }
}
