import type { Command } from 'commander';
import { EXIT_OK, EXIT_USAGE, type CliIo } from './cli-io';

/**
 * Commander's own output goes to `io`, and its usage errors (an unknown option or command, a missing value)
 * exit 2 as ours do. Set on a command before its subcommands are added: they inherit it.
 */
export function reportUsageErrors<C extends Command>(command: C, io: CliIo): C {
  command.configureOutput({ writeOut: io.stdout, writeErr: io.stderr }).exitOverride((error) => {
    io.exit(error.exitCode === 0 ? EXIT_OK : EXIT_USAGE);
    throw error; // reached only when `exit` returns (tests): commander must not go on
  });
  return command;
}
