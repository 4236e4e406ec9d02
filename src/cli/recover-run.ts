import * as path from 'node:path';
import { loadConfig } from '../config';
import { openRecoveryReader, type RecoveryReader } from '../node/open-recovery-reader';
import { invalidArgument, quoteInput } from '../lib/errors';
import { StateDirectoryWriter } from '../recovery/output/directory-writer';
import { summarizeRecovery } from '../recovery/output/recovery-summary';
import { parseComponentList, parseTargetSpec } from '../recovery/recovery-request';
import type {
  RecoveryConfig,
  RecoveryResult,
  RecoveryTarget,
  VerificationLevel,
} from '../recovery/recovery-types';
import { formatPlan, formatResult } from './recover-format';
import { RecoverProgressBars } from './recover-progress';
import { checkOutDir } from './check-out-dir';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './cli-io';
import { describeFailure, failureLine } from './describe-failure';

/** The options `tidemark recover` takes (as commander hands them over). */
export interface RecoverCliOptions {
  to?: string;
  components?: string;
  out?: string;
  dryRun?: boolean;
  json?: boolean;
  config?: string;
  path?: string;
  level?: string;
  threads?: string;
  progress?: boolean;
  /** A committed cluster checkpoint's id: every member's part of it (recover-cluster-run.ts). */
  clusterCheckpoint?: string;
  /** With --cluster-checkpoint: only this member. */
  node?: string;
  /** Print the stack trace of a failure (the global `--debug`). */
  debug?: boolean;
}

/** Where the command talks to (process streams unless a test passes its own). */
export interface RecoverIo extends CliIo {
  /** Progress bars go here when it is a TTY. */
  progressStream: NodeJS.WritableStream & { isTTY?: boolean };
}

const LEVELS: readonly VerificationLevel[] = ['basic', 'standard', 'full'];

interface Inputs {
  target: RecoveryTarget;
  components?: string[];
  overrides: Partial<RecoveryConfig>;
}

function parseInputs(options: RecoverCliOptions): Inputs {
  if (options.to === undefined) throw invalidArgument('--to is required (checkpoint:N, lsn:N or a time)');
  if (options.out === undefined && options.dryRun !== true) {
    throw invalidArgument('--out <dir> is required (or --dry-run to print the plan only)');
  }
  const overrides: Partial<RecoveryConfig> = {};
  if (options.level !== undefined) {
    if (!LEVELS.includes(options.level as VerificationLevel)) {
      throw invalidArgument(`--level must be one of ${LEVELS.join(', ')}, got ${quoteInput(options.level)}`);
    }
    overrides.verificationLevel = options.level as VerificationLevel;
  }
  if (options.threads !== undefined) {
    const threads = /^[0-9]+$/.test(options.threads) ? Number(options.threads) : NaN;
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
      throw invalidArgument(`--threads must be an integer from 1 to 256, got ${quoteInput(options.threads)}`);
    }
    overrides.maxParallelThreads = threads;
  }
  return {
    target: parseTargetSpec(options.to),
    ...(options.components === undefined ? {} : { components: parseComponentList(options.components) }),
    overrides,
  };
}

/**
 * `tidemark recover`: plans (`--dry-run`) or runs a recovery and writes the state to `--out`. Returns the
 * exit code — 0 recovered (or planned), 1 the recovery failed (or a component did), 2 bad usage or
 * configuration; prints `tidemark: CODE: message` on stderr for an error.
 */
export async function runRecover(options: RecoverCliOptions, io: RecoverIo): Promise<number> {
  if (options.node !== undefined) {
    io.stderr('tidemark: INVALID_ARGUMENT: --node goes with --cluster-checkpoint\n');
    return EXIT_USAGE;
  }
  let reader: RecoveryReader | undefined;
  let bars: RecoverProgressBars | undefined;
  try {
    const inputs = parseInputs(options);
    if (options.out !== undefined) await checkOutDir(options.out);
    const config = loadConfig({ configFile: options.config, env: io.env });
    reader = await openRecoveryReader(config, {
      ...(options.path === undefined ? {} : { storePath: options.path }),
      recovery: inputs.overrides,
      warn: (text) => io.stderr(`tidemark: warning: ${text}\n`),
    });
    const engine = reader.engine;

    if (options.dryRun === true) {
      const plan = await engine.findRecoveryPath(inputs.target, inputs.components);
      io.stdout(options.json === true ? `${JSON.stringify(plan, null, 2)}\n` : `${formatPlan(plan)}\n`);
      return EXIT_OK;
    }

    if (options.progress !== false && io.progressStream.isTTY === true) {
      bars = new RecoverProgressBars(io.progressStream);
    }
    const progressBars = bars;
    const out = path.resolve(options.out!);
    // Streamed: each component goes to its file as soon as it is recovered, then is let go.
    const writer = await StateDirectoryWriter.open(out);
    let result: RecoveryResult;
    try {
      result = await engine.recoverTo(inputs.target, inputs.components, {
        ...(progressBars ? { onProgress: (p) => progressBars.update(p) } : {}),
        onComponent: (component) => writer.write(component),
      });
      await writer.finish(result);
    } catch (error) {
      await writer.abort();
      throw error;
    }
    bars?.stop();
    bars = undefined;
    const summary = summarizeRecovery(result);
    io.stdout(
      options.json === true
        ? `${JSON.stringify({ ...summary, out }, null, 2)}\n`
        : `${formatResult(summary, out)}\n`,
    );
    const failed = summary.components.filter((c) => c.error);
    const first = failed[0];
    if (first?.error === undefined) return EXIT_OK;
    // The result is printed above; the reason for exit 1 goes where a caller reading only stderr looks.
    const of = `${failed.length} of ${summary.components.length} component(s) failed`;
    io.stderr(failureLine(first.error.code, `${of}; first: ${first.componentId}: ${first.error.message}`));
    return EXIT_FAILED;
  } catch (error) {
    bars?.stop();
    const failure = describeFailure(error, options.debug);
    io.stderr(failure.text);
    return failure.exitCode === 2 ? EXIT_USAGE : EXIT_FAILED;
  } finally {
    await reader?.close();
  }
}
