/**
 * A child process writes entries and checkpoints to a local store; the parent SIGKILLs it at random
 * moments (often in the middle of writing blocks or the manifest). After each kill: every checkpoint
 * the catalog lists loads, every manifest in the store names only blocks that exist (no visible half
 * checkpoint), the state at the newest checkpoint equals replaying the WAL to its LSN, and the next
 * checkpoint succeeds. TIDEMARK_CHECKPOINT_CRASH_ROUNDS sets the rounds (default 12).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { CheckpointCatalog } from '../../../src/checkpoint/catalog/catalog';
import { CatalogFile } from '../../../src/checkpoint/catalog/catalog-file';
import { IncrementalCheckpointSystem } from '../../../src/checkpoint/incremental-checkpoint-system';
import { CheckpointMerger } from '../../../src/checkpoint/merge/checkpoint-merger';
import { StateMaterializer } from '../../../src/checkpoint/state/state-materializer';
import { readManifest } from '../../../src/checkpoint/write/checkpoint-reader';
import { LocalFileStore, blockKey, checkpointsPrefix, parseManifestKey } from '../../../src/storage';
import { SegmentedWal } from '../../../src/wal';
import { ensureBuilt } from '../../support/ensure-built';
import { removeDir, tempDir } from '../../support/wal/wal-fixtures';

const ROUNDS = Number(process.env.TIDEMARK_CHECKPOINT_CRASH_ROUNDS ?? 12);
const CHILD = path.join(__dirname, 'crash', 'checkpoint-crash-child.js');

function runChild(dir: string, start: number, killAfterMs: number): Promise<{ checkpoints: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(start)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (!timer && (out + chunk).includes('R\n'))
        timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      out += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child ended by itself: ${err}`));
      else resolve({ checkpoints: out.split('\n').filter((line) => line.startsWith('C ')).length });
    });
  });
}

describe('checkpoint crash safety (SIGKILL while writing checkpoints)', () => {
  beforeAll(() => ensureBuilt(), 300_000);

  it(`leaves no visible half checkpoint across ${ROUNDS} kills, and the next checkpoint succeeds`, async () => {
    const dir = tempDir('tidemark-cp-crash-');
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let completed = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const run = await runChild(dir, 1_000_000 * (round + 1), 50 + Math.floor(random() * 400));
        completed += run.checkpoints;

        const wal = await SegmentedWal.open(path.join(dir, 'wal'), {
          segmentSize: 256 * 1024,
          preallocate: false,
        });
        const store = new LocalFileStore({ basePath: path.join(dir, 'store') });
        const catalog = await CheckpointCatalog.open(CatalogFile.inDataDir(dir));
        const merger = new CheckpointMerger({ mergeStrategy: 'sequential' });
        const system = await IncrementalCheckpointSystem.open(
          { wal, store, catalog, merger },
          { targetBlockSize: 4096, compressionThreshold: 256, checkpointInterval: 0, cleanupInterval: 0 },
        );
        try {
          // Every manifest in the store is whole: it decodes and every block it names exists.
          for await (const object of store.list(checkpointsPrefix('tidemark'))) {
            const id = parseManifestKey('tidemark', object.key);
            if (id === undefined) continue;
            const manifest = await readManifest(store, 'tidemark', id);
            for (const component of Object.values(manifest.components)) {
              for (const block of component.blocks) {
                expect(await store.head(blockKey('tidemark', block.hash))).toBeDefined();
              }
            }
          }
          // Every checkpoint the catalog lists loads, and the newest equals replaying the WAL to its LSN.
          const latest = catalog.latest();
          if (latest) {
            const loaded = await system.loadCheckpoint(latest.id);
            const replay = new StateMaterializer();
            for await (const record of wal.read({ toLsn: latest.lsn })) replay.apply(record);
            const expected = replay.snapshot();
            expect([...loaded.components.keys()].sort()).toEqual([...expected.components.keys()].sort());
            for (const [id, component] of expected.components) {
              const got = loaded.components.get(id)!.records;
              expect(got.length).toBe(component.records.length);
              for (let i = 0; i < got.length; i++) {
                expect(got[i]!.key.equals(component.records[i]!.key)).toBe(true);
                expect(got[i]!.value.equals(component.records[i]!.value)).toBe(true);
              }
            }
          }
          // And the next checkpoint succeeds.
          const next = await system.checkpoint();
          expect(next.lsn).toBe(wal.stats().lastLsn);
        } finally {
          await system.stop();
          await merger.close();
          await wal.close();
        }
      }
      expect(completed).toBeGreaterThan(0);
    } finally {
      removeDir(dir);
    }
  }, 300_000);
});
