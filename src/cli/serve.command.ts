import type { Command } from 'commander';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the service (embedded mode by default: 127.0.0.1:7070, data in ./data)')
    .option('-c, --config <file>', 'YAML configuration file (default: $TIDEMARK_CONFIG)')
    .action(async (options: { config?: string }) => {
      // Loaded lazily so that the other commands do not pay for Nest.
      const { startServer } = await import('../server/main');
      await startServer({ configFile: options.config });
    });
}
