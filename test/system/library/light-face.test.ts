import { execFileSync } from 'node:child_process';
import { ROOT, ensureBuilt } from '../../support/ensure-built';

/**
 * `require('tidemark')` is for processes that embed the library: it gives the core (WAL, checkpoints, merger,
 * recovery, local and memory stores, createBackend, openNode) and loads no framework, no cloud SDK and no
 * Redis client — those come with 'tidemark/s3', '/gcs', '/azure', '/redis', or when createBackend or openNode
 * is asked for them. Checked in a fresh Node process, by package name (the package's own exports), where
 * require.cache lists every module the require pulled in.
 */
const HEAVY =
  /node_modules[\\/](@nestjs|nestjs-pino|@aws-sdk|@smithy|@google-cloud|@azure|bullmq|ioredis|yaml)[\\/]/;

function inFreshNode(script: string): unknown {
  return JSON.parse(
    execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' }),
  ) as unknown;
}

describe('the package face', () => {
  beforeAll(() => ensureBuilt());

  it('loads the core and no framework, cloud SDK, Redis client or YAML parser', () => {
    const out = inFreshNode(`
      const tidemark = require('tidemark');
      const heavy = Object.keys(require.cache).filter((file) => ${HEAVY}.test(file));
      console.log(JSON.stringify({
        heavy,
        core: ['SegmentedWal', 'IncrementalCheckpointSystem', 'CheckpointMerger', 'RecoveryEngine', 'verifyStore',
          'LocalFileStore', 'MemoryStore', 'createBackend', 'openNode'].filter((name) => typeof tidemark[name] !== 'function'),
      }));
    `);
    expect(out).toEqual({ heavy: [], core: [] });
  });

  it('loads a cloud SDK or BullMQ only through its own entry, or when createBackend is asked for it', () => {
    const out = inFreshNode(`
      const loaded = (name) => Object.keys(require.cache).some((file) => file.includes('node_modules/' + name + '/'));
      const tidemark = require('tidemark');
      tidemark.createBackend({ backend: 'Memory' });
      const before = ['@aws-sdk', 'bullmq'].filter(loaded);
      const { S3Store } = require('tidemark/s3');
      const { BullMqJobQueue, RedisLeaseProvider } = require('tidemark/redis');
      const { GcsStore } = require('tidemark/gcs');
      const { AzureBlobStore } = require('tidemark/azure');
      console.log(JSON.stringify({
        before,
        after: ['@aws-sdk', 'bullmq', 'ioredis', '@google-cloud', '@azure'].filter(loaded),
        classes: [S3Store, BullMqJobQueue, RedisLeaseProvider, GcsStore, AzureBlobStore].map((c) => typeof c),
      }));
    `);
    expect(out).toEqual({
      before: [],
      after: ['@aws-sdk', 'bullmq', 'ioredis', '@google-cloud', '@azure'],
      classes: ['function', 'function', 'function', 'function', 'function'],
    });
  });
});
