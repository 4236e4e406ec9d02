#!/usr/bin/env node
import { Command } from 'commander';
import { registerBench } from './cli/bench.command';
import { registerCatalogRebuild } from './cli/catalog-rebuild.command';
import { registerRecover } from './cli/recover.command';
import { reportFatal } from './cli/report-fatal';
import { registerServe } from './cli/serve.command';
import { registerVerify } from './cli/verify.command';
import { registerWalInspect } from './cli/wal-inspect.command';

/** `tidemark`: serve, wal inspect, catalog rebuild, verify, recover, bench. Each command lives in its own file under `cli/`. */
function buildProgram(): Command {
  const program = new Command('tidemark')
    .description('Tidemark: incremental checkpointing for stateful stream processors')
    .version(readVersion())
    .option('--debug', 'print the stack trace of a failure');
  registerServe(program);
  registerWalInspect(program.command('wal').description('write-ahead log tools'));
  registerBench(program);
  registerCatalogRebuild(program.command('catalog').description('checkpoint catalog tools'));
  registerVerify(program);
  registerRecover(program);
  return program;
}

function readVersion(): string {
  // package.json sits one level above both src/ and dist/.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('../package.json') as { version: string };
  return pkg.version;
}

const program = buildProgram();
program.parseAsync(process.argv).catch((error: unknown) => reportFatal(error, program.opts().debug === true));
