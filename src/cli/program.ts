import type { Command } from 'commander';
import { registerCatalogRebuild } from './catalog-rebuild.command';
import type { RecoverIo } from './recover-run';
import { registerRecover } from './recover.command';
import { registerServe } from './serve.command';
import { TidemarkCommand } from './tidemark-command';
import { reportUsageErrors } from './usage-errors';
import { registerVerify } from './verify.command';
import { registerWalInspect } from './wal-inspect.command';

/**
 * `tidemark`: serve, wal inspect, catalog rebuild, verify, recover, talking to `io` (the process's
 * streams and exit in the binary, a test's own in process). Each command lives in its own file here.
 */
export function buildProgram(io: RecoverIo): Command {
  const program = reportUsageErrors(new TidemarkCommand('tidemark'), io)
    .description('Tidemark: incremental checkpointing for stateful stream processors')
    .version(readVersion())
    .option('--debug', 'print the stack trace of a failure');
  registerServe(program);
  registerWalInspect(program.command('wal').description('write-ahead log tools'), io);
  registerCatalogRebuild(program.command('catalog').description('checkpoint catalog tools'), io);
  registerVerify(program, io);
  registerRecover(program, io);
  return program;
}

function readVersion(): string {
  // package.json sits two levels above both src/cli/ and dist/cli/.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('../../package.json') as { version: string };
  return pkg.version;
}
