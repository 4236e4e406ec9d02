import type { Command } from 'commander';
import { formatInspection, inspectWal } from '../wal/inspect';

export function registerWalInspect(wal: Command): void {
  wal
    .command('inspect')
    .description(
      'check a WAL segment file or directory: header, footer, entries, LSN and time range, every CRC',
    )
    .argument('<path>', 'a segment file or a WAL directory')
    .action(async (path: string) => {
      const inspection = await inspectWal(path);
      process.stdout.write(`${formatInspection(inspection)}\n`);
      if (!inspection.ok) process.exitCode = 1;
    });
}
