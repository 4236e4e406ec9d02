import { createHash } from 'node:crypto';
import type { Manifest, ManifestBlockRef } from '../../../src/checkpoint/manifest/manifest';

/** Manifests for catalog and codec tests: blocks named by the sha256 of a label. */

export function hashOf(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}

export function block(label: string, storedBytes = 100): ManifestBlockRef {
  return { hash: hashOf(label), recordCount: 10, rawBytes: storedBytes * 3, storedBytes };
}

export interface ManifestParts {
  lsn?: number;
  fencingToken?: number;
  blocks?: Record<string, ManifestBlockRef[]>;
  newBytes?: number;
}

function components(blocks: Record<string, ManifestBlockRef[]>): Manifest['components'] {
  const result: Manifest['components'] = {};
  for (const [componentId, list] of Object.entries(blocks)) {
    result[componentId] = {
      blocks: list,
      keyCount: list.length * 10,
      bytes: list.length * 250,
      digest: hashOf(`state-${componentId}`),
    };
  }
  return result;
}

function stats(blocks: Record<string, ManifestBlockRef[]>, newBytes?: number): Manifest['stats'] {
  const all = Object.values(blocks).flat();
  const storedBytes = all.reduce((sum, b) => sum + b.storedBytes, 0);
  return {
    logicalBytes: all.reduce((sum, b) => sum + b.rawBytes, 0),
    storedBytes,
    newBytes: newBytes ?? storedBytes,
    newBlocks: all.length,
    reusedBlocks: 0,
    durationMs: 12.5,
  };
}

export function fullManifest(id: number, parts: ManifestParts = {}): Manifest {
  const blocks = parts.blocks ?? { window_processor_1: [block(`full-${id}-a`), block(`full-${id}-b`)] };
  return {
    formatVersion: 1,
    checkpointId: id,
    kind: 'full',
    parentId: null,
    baseId: id,
    depth: 0,
    fromLsn: 0,
    lsn: parts.lsn ?? id * 100,
    createdAt: '2026-11-24T10:00:00.000Z',
    timestamp: 1_790_000_000_000_000 + id,
    fencingToken: parts.fencingToken ?? 1,
    nodeId: 'node-1',
    codec: 'zstd',
    components: components(blocks),
    stats: stats(blocks, parts.newBytes),
  };
}

export function incrementalManifest(id: number, parent: Manifest, parts: ManifestParts = {}): Manifest {
  const blocks = parts.blocks ?? { window_processor_1: [block(`inc-${id}`)] };
  return {
    ...fullManifest(id, parts),
    kind: 'incremental',
    parentId: parent.checkpointId,
    baseId: parent.baseId,
    depth: parent.depth + 1,
    fromLsn: parent.lsn,
    lsn: parts.lsn ?? parent.lsn + 50,
    fencingToken: parts.fencingToken ?? parent.fencingToken,
    components: components(blocks),
    stats: stats(blocks, parts.newBytes),
  };
}
