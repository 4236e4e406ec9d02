import { crc32c } from '@node-rs/crc32';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { TidemarkError, checksumMismatch, invalidArgument } from '../../../lib/errors';
import { syncDirectory } from '../../../lib/fs/sync-directory';
import { readU64, writeU64 } from '../../../lib/uint64';
import type { Membership, NodeId, Snapshot } from '../core';
import { checkFileHeader } from './check-file-header';
import {
  FILE_HEADER_SIZE,
  MAX_RECORD_BYTES,
  RECORD_HEADER_SIZE,
  SNAPSHOT_MAGIC,
  fileHeader,
  snapshotFileName,
} from './log-format';
import type { LogPosition } from './log-state';
import { writeAll } from './write-all';

/** Where the record starts: after the file header. */
const RECORD_OFFSET = FILE_HEADER_SIZE;
const PAYLOAD_OFFSET = FILE_HEADER_SIZE + RECORD_HEADER_SIZE;

/**
 * Writes `snapshot` to its own new file in `dir` (log-format.ts), fsyncs it and the directory, and returns
 * its path. Nothing refers to it yet: the log names it in a later write, so a crash before then leaves a
 * leftover that the next load removes. The data is written from the caller's buffer, not copied. Throws the
 * file system's error (a failed attempt removes its file); INVALID_ARGUMENT for a snapshot over the limit.
 */
export async function writeSnapshotFile(dir: string, snapshot: Snapshot): Promise<string> {
  const head = encodeHead(snapshot);
  const file = path.join(dir, snapshotFileName(snapshot.index));
  try {
    const handle = await fs.open(file, 'w', 0o644);
    try {
      await writeAll(handle, [head, snapshot.data], 0);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await fs.unlink(file).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
  return file;
}

/**
 * Reads the snapshot file the log names at `position`: CHECKSUM_MISMATCH for a damaged or cut file,
 * INVALID_STATE_DATA when it holds another position. The data is a view into the file's bytes.
 */
export async function readSnapshotFile(file: string, position: LogPosition): Promise<Snapshot> {
  const bytes = await fs.readFile(file);
  checkFileHeader(bytes, SNAPSHOT_MAGIC, file, 'Raft snapshot file');
  const length = bytes.length >= PAYLOAD_OFFSET ? bytes.readUInt32LE(RECORD_OFFSET) : -1;
  if (PAYLOAD_OFFSET + length !== bytes.length) {
    throw checksumMismatch(`${file}: the snapshot record's length does not match the file's`, {
      file,
      offset: RECORD_OFFSET,
    });
  }
  if (crc32c(bytes.subarray(PAYLOAD_OFFSET)) !== bytes.readUInt32LE(RECORD_OFFSET + 4)) {
    throw checksumMismatch(`${file}: snapshot checksum mismatch`, { file, offset: RECORD_OFFSET });
  }
  const snapshot = decodePayload(bytes, file);
  if (snapshot.index !== position.index || snapshot.term !== position.term) {
    throw new TidemarkError(
      'INVALID_STATE_DATA',
      `${file} holds the snapshot at index ${snapshot.index} of term ${snapshot.term}; the log names index ` +
        `${position.index} of term ${position.term}`,
      { details: { file } },
    );
  }
  return snapshot;
}

/** File header, record header and the payload up to the data, with the CRC over all of the payload. */
function encodeHead(snapshot: Snapshot): Buffer {
  const { voters, learners } = snapshot.membership;
  let metaSize = 16 + 2 + 2;
  for (const id of [...voters, ...learners]) metaSize += 1 + Buffer.byteLength(id);
  const payloadSize = metaSize + snapshot.data.length;
  if (payloadSize > MAX_RECORD_BYTES) {
    throw invalidArgument(`a snapshot of ${payloadSize} bytes is over the limit of ${MAX_RECORD_BYTES}`);
  }
  const head = Buffer.allocUnsafe(PAYLOAD_OFFSET + metaSize);
  fileHeader(SNAPSHOT_MAGIC).copy(head, 0);
  let at = PAYLOAD_OFFSET;
  writeU64(head, snapshot.index, at);
  writeU64(head, snapshot.term, at + 8);
  at += 16;
  for (const list of [voters, learners]) {
    head.writeUInt16LE(list.length, at);
    at += 2;
    for (const id of list) {
      const length = head.write(id, at + 1, 'utf8');
      head[at] = length;
      at += 1 + length;
    }
  }
  head.writeUInt32LE(payloadSize, RECORD_OFFSET);
  head.writeUInt32LE(crc32c(snapshot.data, crc32c(head.subarray(PAYLOAD_OFFSET))), RECORD_OFFSET + 4);
  return head;
}

function decodePayload(bytes: Buffer, file: string): Snapshot {
  let at = PAYLOAD_OFFSET;
  const malformed = (why: string): TidemarkError =>
    new TidemarkError('INVALID_STATE_DATA', `${file}: ${why}`, { details: { file, offset: at } });
  const need = (count: number): void => {
    if (at + count > bytes.length) throw malformed('the snapshot record ends inside its membership');
  };
  need(16);
  const index = readU64(bytes, at);
  const term = readU64(bytes, at + 8);
  if (Number.isNaN(index) || Number.isNaN(term)) throw malformed('index or term beyond 2^53');
  at += 16;
  const lists: NodeId[][] = [];
  for (let list = 0; list < 2; list++) {
    need(2);
    const count = bytes.readUInt16LE(at);
    at += 2;
    const ids: NodeId[] = [];
    for (let i = 0; i < count; i++) {
      need(1);
      const length = bytes[at] as number;
      need(1 + length);
      ids.push(bytes.toString('utf8', at + 1, at + 1 + length));
      at += 1 + length;
    }
    lists.push(ids);
  }
  const membership: Membership = { voters: lists[0] as NodeId[], learners: lists[1] as NodeId[] };
  return { index, term, membership, data: bytes.subarray(at) };
}
