import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { createApp } from '../../../src/server/create-app';
import type { CheckpointSummary } from '../../../src/checkpoint/catalog/checkpoint-summary';
import { loadConfig } from '../../../src/config';
import { SegmentedWal, put } from '../../../src/wal';
import { LogModel } from '../recovery/recovery-model';

/**
 * What the CLI surface test runs the commands against, built once: a node's data directory (WAL, store,
 * catalog.json) the real app filled, a WAL of its own, damaged copies, and the wrong kinds of things a
 * caller may point a command at (an empty directory, a directory of notes, a plain file, broken configs).
 */
export interface CliFixture {
  root: string;
  /** DATA_DIR of a node: wal/, store/, catalog.json; two checkpoints and entries after them. */
  dataDir: string;
  /** A WAL with a sealed segment and an active one. */
  walDir: string;
  sealedSegment: string;
  /** A copy of the sealed segment with a byte flipped in its body. */
  corruptSegment: string;
  /** Copies of the sealed segment cut in its last frame, and cut to nothing; a directory of the empty one. */
  tornSegment: string;
  emptySegment: string;
  emptySegmentDir: string;
  /** A copy of the data directory whose active WAL segment ends in a torn write (a crash's). */
  tornDataDir: string;
  /** A copy of the data directory whose catalog.json is not JSON. */
  garbledCatalogDataDir: string;
  /** A copy of the data directory's store with a block one byte short. */
  corruptStore: string;
  /** Copies of the WAL and the store under names with spaces and non-ASCII characters. */
  unicodeWalDir: string;
  unicodeStore: string;
  /** Symbolic links to the WAL and the store, and one to itself. */
  walLink: string;
  storeLink: string;
  loop: string;
  emptyDir: string;
  notesDir: string;
  file: string;
  configs: { badYaml: string; unknownKey: string; notAMapping: string; memoryStore: string };
  components: string[];
  checkpoints: number[];
  /** The components the checkpoints hold (the others are only in the WAL, which was never shipped). */
  checkpointComponents: string[];

  lastLsn: number;
  /** µs since the epoch of the first and the last entry of the data directory's WAL. */
  firstTime: number;
  lastTime: number;
}

/** The environment a node of the fixture's data directory runs with (no background timers). */
export function nodeEnv(dataDir: string): Record<string, string> {
  return {
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    TIDEMARK_CHECKPOINT_INTERVAL_MS: '0',
    TIDEMARK_CHECKPOINT_CLEANUP_INTERVAL_MS: '0',
    TIDEMARK_WAL_PREALLOCATE: 'false',
  };
}

async function fillDataDir(dataDir: string): Promise<{ model: LogModel; checkpoints: CheckpointSummary[] }> {
  const model = new LogModel();
  const app = await createApp(loadConfig({ env: nodeEnv(dataDir) }));
  await app.init();
  try {
    const checkpoint = async (kind: string) =>
      (await request(app.getHttpServer()).post('/v1/checkpoints').send({ kind }).expect(201))
        .body as CheckpointSummary;
    await model.appendMany(app, 'window_1', 20, 1);
    await model.appendMany(app, 'join_2', 10, 1);
    const full = await checkpoint('full');
    await model.appendMany(app, 'join_2', 6, 2);
    const incremental = await checkpoint('incremental');
    await model.appendMany(app, 'agg_3', 5, 3);
    return { model, checkpoints: [full, incremental] };
  } finally {
    await app.close();
  }
}

async function writeWal(walDir: string): Promise<void> {
  const wal = await SegmentedWal.open(walDir, { preallocate: false });
  const entry = (sequence: number) => ({
    componentId: 'c1',
    sequence,
    timestamp: 1_700_000_000_000_000 + sequence,
    changes: [put(`key-${sequence}`, Buffer.alloc(32, sequence))],
  });
  try {
    await wal.appendBatch(Array.from({ length: 8 }, (_, i) => entry(i + 1)));
    await wal.seal();
    await wal.appendBatch(Array.from({ length: 3 }, (_, i) => entry(i + 9)));
  } finally {
    await wal.close();
  }
}

/** One byte short: every verification level sees it (basic compares sizes), and so does a recovery. */
function cutLastByte(file: string): void {
  const bytes = readFileSync(file);
  writeFileSync(file, bytes.subarray(0, bytes.length - 1));
}

function someBlock(store: string): string {
  const blocks = path.join(store, 'tidemark', 'blocks');
  const shard = path.join(blocks, readdirSync(blocks).sort()[0]!);
  return path.join(shard, readdirSync(shard).sort()[0]!);
}

export async function buildCliFixture(): Promise<CliFixture> {
  const root = mkdtempSync(path.join(tmpdir(), 'tidemark-cli-surface-'));
  const at = (...parts: string[]) => path.join(root, ...parts);
  const dataDir = at('data');
  const { model, checkpoints } = await fillDataDir(dataDir);

  const walDir = at('wal');
  await writeWal(walDir);
  const sealedSegment = path.join(
    walDir,
    readdirSync(walDir)
      .filter((n) => n.endsWith('.wal'))
      .sort()[0]!,
  );
  const corruptSegment = at('corrupt.wal');
  const segment = readFileSync(sealedSegment);
  segment[Math.floor(segment.length / 2)]! ^= 0x40;
  writeFileSync(corruptSegment, segment);
  writeFileSync(at('torn.wal'), readFileSync(sealedSegment).subarray(0, segment.length - 40));
  writeFileSync(at('empty.wal'), '');
  mkdirSync(at('wal-of-nothing'));
  writeFileSync(path.join(at('wal-of-nothing'), path.basename(sealedSegment)), '');

  const tornDataDir = at('torn-data');
  cpSync(dataDir, tornDataDir, { recursive: true });
  const active = readdirSync(path.join(tornDataDir, 'wal'))
    .filter((n) => n.endsWith('.wal'))
    .sort()
    .at(-1)!;
  appendFileSync(path.join(tornDataDir, 'wal', active), Buffer.alloc(20, 7));

  const garbledCatalogDataDir = at('garbled-catalog-data');
  cpSync(dataDir, garbledCatalogDataDir, { recursive: true });
  writeFileSync(path.join(garbledCatalogDataDir, 'catalog.json'), '{"checkpoints": [');

  const corruptStore = at('corrupt-store');
  cpSync(path.join(dataDir, 'store'), corruptStore, { recursive: true });
  cutLastByte(someBlock(corruptStore));

  cpSync(walDir, at('wål dir 💥'), { recursive: true });
  cpSync(path.join(dataDir, 'store'), at('störe dir 💥'), { recursive: true });
  symlinkSync(walDir, at('wal-link'));
  symlinkSync(path.join(dataDir, 'store'), at('store-link'));
  symlinkSync(at('loop'), at('loop'));

  mkdirSync(at('empty'));
  mkdirSync(at('notes'));
  writeFileSync(at('notes', 'notes.txt'), 'not a WAL, not a store\n');
  writeFileSync(at('file.txt'), 'a plain file\n');
  mkdirSync(at('configs'));
  const config = (name: string, text: string) => {
    writeFileSync(at('configs', name), text);
    return at('configs', name);
  };
  return {
    root,
    dataDir,
    walDir,
    sealedSegment,
    corruptSegment,
    tornSegment: at('torn.wal'),
    emptySegment: at('empty.wal'),
    emptySegmentDir: at('wal-of-nothing'),
    tornDataDir,
    garbledCatalogDataDir,
    corruptStore,
    unicodeWalDir: at('wål dir 💥'),
    unicodeStore: at('störe dir 💥'),
    walLink: at('wal-link'),
    storeLink: at('store-link'),
    loop: at('loop'),
    emptyDir: at('empty'),
    notesDir: at('notes'),
    file: at('file.txt'),
    configs: {
      badYaml: config('bad.yaml', 'storage:\n  backend: [LocalFile\n  prefix: {x: y: z}\n'),
      unknownKey: config('unknown.yaml', 'server:\n  prot: 1\nfrobnicate: true\n'),
      notAMapping: config('list.yaml', '- dataDir\n- store\n'),
      memoryStore: config('memory.yaml', 'storage:\n  backend: Memory\n'),
    },
    components: ['window_1', 'join_2', 'agg_3'],
    checkpoints: checkpoints.map((c) => c.id),
    checkpointComponents: ['window_1', 'join_2'],
    lastLsn: model.lastLsn,
    firstTime: model.log[0]!.timestamp,
    lastTime: model.log[model.log.length - 1]!.timestamp,
  };
}
