import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { runCli } from '../../../src/cli/run-cli';
import { CLI } from '../ensure-built';

/** What a run of `tidemark <args>` did. */
export interface CliRun {
  /** Every exit code the run ended with, in order: a command ends exactly once. */
  exits: number[];
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  env: Record<string, string>;
  cwd: string;
  /** Not a timing expectation: a run that has not ended by then is taken to hang. */
  hangAfterMs: number;
}

function deadline<T>(work: Promise<T>, args: readonly string[], ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`tidemark ${JSON.stringify(args)} hangs`)), ms);
  });
  return Promise.race([work, hang]).finally(() => clearTimeout(timer));
}

/**
 * The CLI run in process through commander, exactly as the binary builds it (cli/run-cli.ts), with the
 * output and the exit caught. The working directory is `cwd` for the run, so relative paths land there.
 */
export async function runInProcess(args: readonly string[], options: CliRunOptions): Promise<CliRun> {
  const run: CliRun = { exits: [], stdout: '', stderr: '' };
  const home = process.cwd();
  process.chdir(options.cwd);
  try {
    await deadline(
      runCli(args, {
        stdout: (text) => (run.stdout += text),
        stderr: (text) => (run.stderr += text),
        exit: (code) => run.exits.push(code),
        env: options.env,
        progressStream: new PassThrough(), // not a terminal: no progress bars
      }),
      args,
      options.hangAfterMs,
    );
  } finally {
    process.chdir(home);
  }
  return run;
}

/** The built CLI (`node dist/cli.js`), spawned as a user runs it; killed and failed if it hangs. */
export function runSpawned(args: readonly string[], options: CliRunOptions): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: CliRun = { exits: [], stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === null) reject(new Error(`tidemark ${JSON.stringify(args)} died of ${signal}`));
      else resolve({ ...run, exits: [code] });
    });
  });
  return deadline(done, args, options.hangAfterMs).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
}
