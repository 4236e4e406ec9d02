/* eslint-disable @typescript-eslint/no-require-imports */
const { Buffer } = require('node:buffer');
/* global require, process, __dirname */
// Writes entries and checkpoints forever on the data directory argv[2]; the parent SIGKILLs it.
// Uses the BUILT library (dist/), so the code under test is what ships.
const path = require('node:path');
const dist = path.join(__dirname, '..', '..', '..', '..', 'dist');
const { SegmentedWal, put } = require(path.join(dist, 'wal'));
const { CheckpointCatalog } = require(path.join(dist, 'checkpoint/catalog/catalog'));
const { CatalogFile } = require(path.join(dist, 'checkpoint/catalog/catalog-file'));
const { CheckpointMerger } = require(path.join(dist, 'checkpoint/merge/checkpoint-merger'));
const { IncrementalCheckpointSystem } = require(path.join(dist, 'checkpoint/incremental-checkpoint-system'));
const { LocalFileStore } = require(path.join(dist, 'storage'));

async function main() {
  const dir = process.argv[2];
  const start = Number(process.argv[3]);
  const wal = await SegmentedWal.open(path.join(dir, 'wal'), { segmentSize: 256 * 1024, preallocate: false });
  const store = new LocalFileStore({ basePath: path.join(dir, 'store'), syncWrites: true });
  const catalog = await CheckpointCatalog.open(CatalogFile.inDataDir(dir));
  const merger = new CheckpointMerger({ mergeStrategy: 'sequential' });
  const system = await IncrementalCheckpointSystem.open(
    { wal, store, catalog, merger },
    {
      targetBlockSize: 4096,
      compressionThreshold: 256,
      checkpointInterval: 0,
      cleanupInterval: 0,
      maxIncrementalChainLength: 4,
    },
  );
  process.stdout.write('R\n');
  for (let round = 0; ; round++) {
    const entries = [];
    for (let i = 0; i < 200; i++) {
      const n = start + round * 200 + i;
      entries.push({
        componentId: `c${n % 3}`,
        sequence: n,
        timestamp: 1_700_000_000_000_000 + n,
        changes: [put(`key-${n % 997}`, Buffer.alloc(64 + (n % 200), n & 0xff))],
      });
    }
    await wal.appendBatch(entries);
    const summary = await system.checkpoint();
    process.stdout.write(`C ${summary.id} ${summary.lsn}\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
