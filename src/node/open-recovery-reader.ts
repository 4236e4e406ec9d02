import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { CheckpointCatalog } from '../checkpoint/catalog/catalog';
import { CatalogFile } from '../checkpoint/catalog/catalog-file';
import { CheckpointMerger } from '../checkpoint/merge/checkpoint-merger';
import type { TidemarkConfig } from '../config/config.schema';
import { RecoveryEngine, type RecoveryBackend } from '../recovery/recovery-engine';
import type { RecoveryConfig } from '../recovery/recovery-types';
import { openLocalStore } from '../storage/fs/open-local-store';
import { createBackend } from '../storage/create-backend';
import { ReadOnlyLocalFileStore } from '../storage/fs/read-only-local-file-store';
import type { ObjectStore } from '../storage/object-store';
import { UPLOADED_SEGMENTS_FILE, UploadedSegments } from '../wal/archive';
import { openWalToRead } from './open-wal-to-read';

export interface RecoveryReaderOptions {
  /** Read only this local store directory (no catalog, WAL or uploads record of a node). */
  storePath?: string;
  /** Settings of the engine that differ from `settings.recovery` (the CLI's --level, --threads). */
  recovery?: Partial<RecoveryConfig>;
  /** Told what could not be read, and what is read instead. */
  warn: (text: string) => void;
  /**
   * Another member's checkpoints in the same store (a cluster restore point): read under its prefix, as
   * that node, with nothing of this node's data directory.
   */
  member?: { prefix: string; nodeId: string };
}

/** A recovery engine over a node's data, opened to read; `close` ends its threads and what it opened. */
export interface RecoveryReader {
  engine: RecoveryEngine;
  close(): Promise<void>;
}

/**
 * What `tidemark recover` reads: the store (a local one read-only), and of the node's data directory, when
 * there is one, the catalog, the uploads record and the WAL — each only where it can be read without
 * writing a byte (a node may be running there: openWalToRead). What cannot be read is warned about and
 * rebuilt or read from the store instead.
 */
export async function openRecoveryReader(
  settings: TidemarkConfig,
  options: RecoveryReaderOptions,
): Promise<RecoveryReader> {
  const base = options.member ?? { prefix: settings.storage.prefix, nodeId: settings.checkpoint.nodeId };
  const backend: RecoveryBackend = { store: openStoreToRead(settings, options.storePath), ...base };
  if (options.storePath === undefined && options.member === undefined && existsSync(settings.dataDir)) {
    const catalogFile = CatalogFile.inDataDir(settings.dataDir);
    if (existsSync(catalogFile.path)) {
      try {
        backend.catalog = await CheckpointCatalog.open(catalogFile);
      } catch (error) {
        options.warn(
          `${catalogFile.path} is unreadable (${(error as Error).message}); rebuilding the catalog from the store`,
        );
      }
    }
    if (existsSync(path.join(settings.dataDir, UPLOADED_SEGMENTS_FILE))) {
      backend.uploads = await UploadedSegments.openToRead(settings.dataDir);
    }
    if (existsSync(settings.wal.dir)) backend.wal = await openWalToRead(settings.wal, options.warn);
  }
  const merger = new CheckpointMerger(settings.merger);
  const engine = new RecoveryEngine(backend, merger, { ...settings.recovery, ...options.recovery });
  return {
    engine,
    close: async () => {
      await engine.close();
      await merger.close();
      await backend.uploads?.close();
      await backend.wal?.close();
    },
  };
}

/**
 * The configured store, to read only. A local directory is not prepared as a node's store is (created, and
 * emptied of the temporary files of puts in flight, a running node's among them): a recovery writes nothing
 * there.
 */
export function openStoreToRead(settings: TidemarkConfig, storePath?: string): ObjectStore {
  if (storePath !== undefined) return openLocalStore(storePath, settings.storage.prefix);
  const storage = settings.storage;
  if (storage.backend !== 'LocalFile') return createBackend(storage).store;
  return new ReadOnlyLocalFileStore(storage.basePath ?? path.join(settings.dataDir, 'store'));
}
