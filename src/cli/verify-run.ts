import * as path from 'node:path';
import { loadConfig } from '../config';
import { invalidArgument, quoteInput } from '../lib/errors';
import { createBackend, keyProblem, type ObjectStore } from '../storage';
import { segmentProblem } from '../storage/key-rules';
import { formatReport } from '../recovery/verification/format-report';
import { openLocalStore } from '../storage/fs/open-local-store';
import type { VerificationLevel, VerificationReport } from '../recovery/verification/verify-report';
import { VERIFICATION_LEVELS, verifyStore } from '../recovery/verification/verify-store';

export interface VerifyRunOptions {
  /** A local store directory (a LocalFileStore's basePath); without it, the configured store. */
  path?: string;
  configFile?: string;
  /** Default: the configuration's storage.prefix, or `tidemark` with `path`. */
  prefix?: string;
  nodeId?: string;
  level?: string;
  json?: boolean;
  threads?: number;
  concurrency?: number;
  /** The block pool's worker file (default: the build's, beside block-pool.js). */
  workerFilename?: string;
  /** Where the report goes (stdout unless given). */
  write?: (text: string) => void;
  /** The environment the configuration is read from (tests pass their own). */
  env?: Readonly<Record<string, string | undefined>>;
}

export const DEFAULT_PREFIX = 'tidemark';

/**
 * What `tidemark verify` does: opens the store (`path`: that directory, read-only; else the configured
 * one — a configured local directory read-only as well), verifies it at the level asked, and writes the
 * report (text or JSON). Returns the report; `report.ok` false means a fault. Throws INVALID_ARGUMENT or
 * CONFIG_INVALID for bad options (the CLI exits 2), and an `unavailable` error when the store cannot be
 * reached.
 */
export async function runVerify(options: VerifyRunOptions): Promise<VerificationReport> {
  const level = checkLevel(options.level ?? 'standard');
  if (options.nodeId !== undefined) checkNodeId(options.nodeId);
  const write = options.write ?? ((text: string) => process.stdout.write(`${text}\n`));
  const opened = openStore(options);
  const report = await verifyStore(
    { store: opened.store, prefix: opened.prefix, nodeId: options.nodeId },
    {
      level,
      threads: options.threads,
      concurrency: options.concurrency,
      workerFilename: options.workerFilename,
    },
  );
  write(options.json === true ? JSON.stringify(report, null, 2) : formatReport(report, opened.where));
  return report;
}

/** Why a verification fails, in one line: the count of faults and the first (its code); undefined when it passes. */
export function verificationFault(report: VerificationReport): { code: string; message: string } | undefined {
  if (report.ok) return undefined;
  const where = [
    ...report.checkpoints.flatMap((c) => c.faults.map((fault) => ({ what: `checkpoint ${c.id}`, fault }))),
    ...report.walPacks.flatMap((p) => p.faults.map((fault) => ({ what: `WAL pack ${p.key}`, fault }))),
    ...report.other.map((fault) => ({ what: fault.key ?? 'the store', fault })),
  ];
  const first = where[0];
  const { faults, faultyCheckpoints, faultyWalPacks } = report.totals;
  const count = `${faults} fault(s): ${faultyCheckpoints} checkpoint(s), ${faultyWalPacks} WAL pack(s)`;
  if (first === undefined) return { code: 'INVALID_STATE_DATA', message: count };
  return { code: first.fault.code, message: `${count}; first: ${first.what}: ${first.fault.message}` };
}

function checkLevel(level: string): VerificationLevel {
  if (!(VERIFICATION_LEVELS as readonly string[]).includes(level)) {
    throw invalidArgument(
      `--level must be one of ${VERIFICATION_LEVELS.join(', ')}; got ${quoteInput(level)}`,
    );
  }
  return level as VerificationLevel;
}

function openStore(options: VerifyRunOptions): { store: ObjectStore; prefix: string; where: string } {
  if (options.path !== undefined) {
    if (options.configFile !== undefined) {
      throw invalidArgument('--path and --config exclude each other: --path names the store');
    }
    const prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX);
    return { store: openLocalStore(options.path, prefix), prefix, where: options.path };
  }
  const config = loadConfig({ configFile: options.configFile, env: options.env });
  const prefix = checkPrefix(options.prefix ?? config.storage.prefix);
  const storage = config.storage;
  if (storage.backend === 'LocalFile') {
    const basePath = storage.basePath ?? path.join(config.dataDir, 'store');
    return { store: openLocalStore(basePath, prefix), prefix, where: basePath };
  }
  if (storage.backend === 'Memory') {
    throw invalidArgument('the configured store is in memory (storage.backend Memory): nothing to verify');
  }
  return { store: createBackend(storage).store, prefix, where: `the configured ${storage.backend} store` };
}

// The store's own checks would say the same, but repeat the whole value: a 10 KB --prefix is cut here.
function checkPrefix(prefix: string): string {
  const problem = keyProblem(prefix);
  if (problem !== undefined)
    throw invalidArgument(`--prefix ${quoteInput(prefix)} is no key prefix: ${problem}`);
  return prefix;
}

function checkNodeId(nodeId: string): void {
  const problem = nodeId.includes('/') ? 'contains "/"' : segmentProblem(nodeId);
  if (problem !== undefined) throw invalidArgument(`--node ${quoteInput(nodeId)} is no node id: ${problem}`);
}
