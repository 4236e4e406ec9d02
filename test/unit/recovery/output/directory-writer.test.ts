import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  readStateDirectory,
  RECOVERY_FILE,
  stateFileName,
  writeStateToDirectory,
} from '../../../../src/recovery/output/directory-writer';
import { readStateFile } from '../../../../src/recovery/output/state-file';
import { TidemarkError } from '../../../../src/lib/errors';
import { plain, plainResult, sampleResult } from '../../../support/recovery/output/fixtures';

let root: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'tidemark-recovery-out-'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TidemarkError) return error.code;
    throw error;
  }
  throw new Error('expected a TidemarkError');
}

describe('writeStateToDirectory', () => {
  it('writes one file per component and recovery.json, and reads back the same state', async () => {
    const result = sampleResult();
    const dir = path.join(root, 'out', 'nested');
    const manifest = await writeStateToDirectory(result, dir);

    expect(readdirSync(dir).sort()).toEqual(
      [
        RECOVERY_FILE,
        '%2Ehidden.state',
        'empty_4.state',
        'ns%3Ajoin.2.state',
        'window_processor_1.state',
      ].sort(),
    );
    const json = JSON.parse(readFileSync(path.join(dir, RECOVERY_FILE), 'utf8')) as Record<string, unknown>;
    expect(json).toEqual(JSON.parse(JSON.stringify(manifest)));
    expect(json).toMatchObject({
      formatVersion: 1,
      target: { lsn: 5000 },
      lsn: 5000,
      stats: { blocksRead: 4, walEntries: 7, verificationLevel: 'standard' },
    });
    expect((json.components as { componentId: string }[]).map((c) => c.componentId)).toContain('broken_5');
    expect(Object.keys(json.files as object)).not.toContain('broken_5');

    const back = await readStateDirectory(dir);
    expect(plain([...back.components].map(([id, c]) => [id, c.records]))).toEqual(plainResult(result));
    const big = back.components.get('window_processor_1')!.records;
    expect(big[1234]).toMatchObject({ lsn: 10 + 1234, timestamp: 1_700_000_000_000_000 + 1244 });
    // Nothing but the output directory itself was left beside it.
    expect(readdirSync(path.join(root, 'out'))).toEqual(['nested']);
  });

  it('fills an existing empty directory, and refuses a non-empty one or a file, leaving nothing behind', async () => {
    const empty = path.join(root, 'empty');
    mkdirSync(empty);
    await writeStateToDirectory(sampleResult({ bigRecords: 2 }), empty);
    expect(existsSync(path.join(empty, RECOVERY_FILE))).toBe(true);

    expect(await code(writeStateToDirectory(sampleResult({ bigRecords: 2 }), empty))).toBe(
      'INVALID_ARGUMENT',
    );
    const file = path.join(root, 'file');
    writeFileSync(file, 'x');
    expect(await code(writeStateToDirectory(sampleResult({ bigRecords: 2 }), file))).toBe('INVALID_ARGUMENT');
    expect(readdirSync(root).sort()).toEqual(['empty', 'file']);
  });

  it('names components too long for a file by their hash', async () => {
    const id = 'c'.repeat(255);
    const result = sampleResult({ bigRecords: 1 });
    result.state.components.set(id, { componentId: id, records: [] });
    await writeStateToDirectory(result, path.join(root, 'long'));
    expect(stateFileName(id)).toMatch(/^%[0-9a-f]{64}\.state$/);
    const back = await readStateDirectory(path.join(root, 'long'));
    expect(back.components.get(id)).toEqual({ componentId: id, records: [] });
  });

  it('refuses a state file with a flipped bit, another magic or another version', async () => {
    const dir = path.join(root, 'out');
    await writeStateToDirectory(sampleResult({ bigRecords: 10 }), dir);
    const bytes = readFileSync(path.join(dir, 'window_processor_1.state'));
    expect(readStateFile(bytes).records).toHaveLength(10);

    const flipped = Buffer.from(bytes);
    flipped[200] ^= 0x04;
    expect(() => readStateFile(flipped)).toThrow(expect.objectContaining({ code: 'CHECKSUM_MISMATCH' }));
    const magic = Buffer.from(bytes);
    magic[0] = 0x58;
    expect(() => readStateFile(magic)).toThrow(expect.objectContaining({ code: 'DESERIALIZATION_ERROR' }));
    const version = Buffer.from(bytes);
    version[4] = 9;
    expect(() => readStateFile(version)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_VERSION' }));
    expect(() => readStateFile(bytes.subarray(0, 10))).toThrow(
      expect.objectContaining({ code: 'DESERIALIZATION_ERROR' }),
    );
  });
});
