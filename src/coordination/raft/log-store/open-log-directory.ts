import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { TidemarkError } from '../../../lib/errors';
import { syncDirectory } from '../../../lib/fs/sync-directory';
import type { Logger } from '../../../lib/logger';
import type { Snapshot } from '../core';
import { ioFailure } from './io-failure';
import { LogAppender } from './log-appender';
import { LOG_FILE, LOG_MAGIC, fileHeader, parseSnapshotFileName, snapshotFileName } from './log-format';
import type { LogState } from './log-state';
import { replaceFileWithBytes, temporaryPathFor } from './replace-file-with-bytes';
import { replayLogFile } from './replay-log-file';
import { readSnapshotFile } from './snapshot-file';

export interface OpenedLog {
  state: LogState;
  snapshot: Snapshot | undefined;
  appender: LogAppender;
}

/**
 * Opens a store directory (created, with an empty log, when missing): replays the log, reads the snapshot
 * it names, and only once all of it checked out cuts a torn tail and removes leftovers (snapshot files the
 * log does not name, a compaction's temporary file). A refusal (CHECKSUM_MISMATCH, INVALID_STATE_DATA,
 * UNSUPPORTED_VERSION) changes nothing on disk.
 */
export async function openLogDirectory(dir: string, logger: Logger): Promise<OpenedLog> {
  const logFile = path.join(dir, LOG_FILE);
  let bytes: Buffer;
  let names: string[];
  try {
    await createDirectory(dir);
    names = await fs.readdir(dir);
    bytes = await readOrCreateLog(logFile, names);
  } catch (error) {
    throw ioFailure(error, 'open the Raft log', logFile);
  }
  const replayed = replayLogFile(bytes, logFile);
  const { state } = replayed;
  let snapshot: Snapshot | undefined;
  if (state.snapshotIndex > 0) {
    const file = path.join(dir, snapshotFileName(state.snapshotIndex));
    try {
      snapshot = await readSnapshotFile(file, { index: state.snapshotIndex, term: state.snapshotTerm });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        throw ioFailure(error, 'read the snapshot', file);
      throw new TidemarkError(
        'INVALID_STATE_DATA',
        `${logFile} starts after a snapshot ${file} that is missing`,
        {
          details: { file },
        },
      );
    }
  }

  let appender: LogAppender | undefined;
  try {
    appender = await LogAppender.open(logFile, replayed.end);
    if (replayed.torn) {
      logger.warn(
        { file: logFile, ...replayed.torn },
        'cutting a torn tail off the Raft log (a save interrupted by a crash, never acknowledged)',
      );
      await appender.cutTail();
    }
    for (const name of names) {
      const index = parseSnapshotFileName(name);
      const leftover =
        name === path.basename(temporaryPathFor(logFile)) ||
        (index !== undefined && index !== state.snapshotIndex);
      if (leftover) await fs.rm(path.join(dir, name), { force: true });
    }
  } catch (error) {
    await appender?.close();
    throw ioFailure(error, 'repair the Raft log', logFile);
  }
  return { state, snapshot, appender };
}

/** Creates the directory if missing; its name is made durable in its parent. */
async function createDirectory(dir: string): Promise<void> {
  const created = await fs.mkdir(dir, { recursive: true });
  if (created !== undefined) await syncDirectory(path.dirname(created));
}

/** The log's bytes; a new empty log (header only) when there is none yet and nothing else is there. */
async function readOrCreateLog(logFile: string, names: readonly string[]): Promise<Buffer> {
  try {
    return await fs.readFile(logFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const snapshots = names.filter((name) => parseSnapshotFileName(name) !== undefined);
  if (snapshots.length > 0) {
    throw new TidemarkError(
      'INVALID_STATE_DATA',
      `${logFile} is missing but ${path.dirname(logFile)} holds snapshot files (${snapshots.join(', ')})`,
      { details: { file: logFile } },
    );
  }
  const header = fileHeader(LOG_MAGIC);
  await replaceFileWithBytes(logFile, [header]);
  return header;
}
