import type { Command } from 'commander';
import { processIo, type CliIo } from './cli-io';
import { endCommand } from './end-command';
import { reportUsageErrors } from './usage-errors';

/**
 * `tidemark wal inspect <path>`: checks a segment file or a WAL directory and prints what it found. Exit
 * codes: 0 everything checks, 1 corruption found (or the files cannot be read), 2 bad usage (no such path,
 * no WAL there). `io` is for tests.
 */
export function registerWalInspect(wal: Command, io: Partial<CliIo> = {}): Command {
  const streams: CliIo = { ...processIo(), ...io };
  return reportUsageErrors(wal.command('inspect'), streams)
    .description(
      'check a WAL segment file or directory: header, footer, entries, LSN and time range, every CRC',
    )
    .argument('<path>', 'a segment file or a WAL directory')
    .action(async (path: string, _options: unknown, command: Command) => {
      const debug = command.optsWithGlobals<{ debug?: boolean }>().debug === true;
      await endCommand(streams, debug, async () => {
        const { formatInspection, inspectionFault, inspectWal } = await import('../wal');
        const inspection = await inspectWal(path);
        streams.stdout(`${formatInspection(inspection)}\n`);
        return inspectionFault(inspection);
      });
    });
}
