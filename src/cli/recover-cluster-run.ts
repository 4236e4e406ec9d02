import * as path from 'node:path';
import { loadConfig } from '../config';
import { invalidArgument, quoteInput, TidemarkError } from '../lib/errors';
import { clusterRestorePoint, nodeTarget } from '../node/cluster-restore-point';
import { openRecoveryReader, openStoreToRead } from '../node/open-recovery-reader';
import { writeStateToDirectory } from '../recovery/output/directory-writer';
import { summarizeRecovery } from '../recovery/output/recovery-summary';
import { parseComponentList } from '../recovery/recovery-request';
import { splitManifestKey } from '../storage';
import { checkOutDir } from './check-out-dir';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './cli-io';
import { describeFailure } from './describe-failure';
import type { RecoverCliOptions, RecoverIo } from './recover-run';

/**
 * `tidemark recover --cluster-checkpoint N --out <dir> [--node id]`: restores every member's components (or
 * one member's) to committed cluster checkpoint N — each member's own checkpoint in it, read from the store
 * under that member's prefix — into `<dir>/<node id>/`. N is found in the marker this node wrote when N
 * committed. Each node's recovered LSN must be its barrier LSN: otherwise it fails (exit 1).
 */
export async function runRecoverCluster(options: RecoverCliOptions, io: RecoverIo): Promise<number> {
  try {
    const text = options.clusterCheckpoint ?? '';
    const id = /^[0-9]{1,15}$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(id) || id < 1) {
      throw invalidArgument(`--cluster-checkpoint must be a positive integer, got ${quoteInput(text)}`);
    }
    if (options.to !== undefined) throw invalidArgument('give --to or --cluster-checkpoint, not both');
    if (options.out === undefined && options.dryRun !== true) {
      throw invalidArgument('--out <dir> is required (or --dry-run to print the plan only)');
    }
    const components = options.components === undefined ? undefined : parseComponentList(options.components);
    if (options.out !== undefined) await checkOutDir(options.out);
    const config = loadConfig({ configFile: options.config, env: io.env });
    const store = openStoreToRead(config, options.path);
    const point = await clusterRestorePoint({ id, store, prefix: config.storage.prefix });
    const nodes = options.node === undefined ? point.members : [options.node];
    const results = [];
    for (const nodeId of nodes) {
      const target = nodeTarget(point, nodeId);
      const cut = point.cuts[nodeId]!;
      const where = splitManifestKey(cut.manifestKey);
      if (where === undefined) {
        throw new TidemarkError('INVALID_STATE_DATA', `${cut.manifestKey} is not a manifest key`);
      }
      const self = nodeId === config.checkpoint.nodeId && where.prefix === config.storage.prefix;
      const reader = await openRecoveryReader(config, {
        ...(options.path === undefined ? {} : { storePath: options.path }),
        ...(self ? {} : { member: { prefix: where.prefix, nodeId } }),
        warn: (line) => io.stderr(`tidemark: warning: ${line}\n`),
      });
      try {
        if (options.dryRun === true) {
          results.push({ node: nodeId, plan: await reader.engine.findRecoveryPath(target, components) });
          continue;
        }
        const result = await reader.engine.recoverTo(target, components);
        if (result.lsn !== cut.barrierLsn) {
          throw new TidemarkError(
            'INVALID_STATE_DATA',
            `node ${nodeId}: checkpoint ${target.checkpointId} recovered to LSN ${result.lsn}, not its barrier LSN ${cut.barrierLsn}`,
          );
        }
        const out = path.resolve(options.out!, nodeId);
        await writeStateToDirectory(result, out);
        const summary = summarizeRecovery(result);
        results.push({ node: nodeId, barrierLsn: cut.barrierLsn, out, ...summary });
        if (options.json !== true) {
          io.stdout(
            `${nodeId}: checkpoint ${target.checkpointId} at LSN ${result.lsn} (the barrier), ` +
              `${summary.components.length} component(s) -> ${out}\n`,
          );
        }
      } finally {
        await reader.close();
      }
    }
    if (options.json === true || options.dryRun === true) {
      io.stdout(
        `${JSON.stringify({ clusterCheckpoint: id, term: point.committedInTerm, nodes: results }, null, 2)}\n`,
      );
    }
    return EXIT_OK;
  } catch (error) {
    const failure = describeFailure(error, options.debug);
    io.stderr(failure.text);
    return failure.exitCode === 2 ? EXIT_USAGE : EXIT_FAILED;
  }
}
