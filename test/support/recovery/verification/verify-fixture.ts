/**
 * A real store to verify: a whole node (WAL, checkpoint system, tiering) writes a full checkpoint and two
 * incrementals on it and ships its whole WAL in packs to a LocalFileStore; tests copy the directory and
 * damage the copy (delete a block, flip a bit, rewrite a manifest, …) in place.
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Manifest } from '../../../../src/checkpoint/manifest/manifest';
import { LocalFileStore, padNumber } from '../../../../src/storage';
import { HEADER_SIZE } from '../../../../src/wal/format';
import { appendEntries, eventually, openTestNode } from '../../tiering/tiering-node-fixture';

export const PREFIX = 'tidemark';
export const NODE_ID = 'node-1';
/** Entries appended: LSNs 1..TOTAL_ENTRIES, all shipped. */
export const TOTAL_ENTRIES = 1400;

export interface BuiltStore {
  /** The store directory (LocalFileStore basePath). */
  dir: string;
  /** Checkpoint ids: the full one, then the incrementals, each on the one before. */
  full: number;
  incrementals: [number, number];
}

/** Writes checkpoints and ships the WAL into `{root}/store`; the node's own directory is `{root}/node`. */
export async function buildStore(root: string): Promise<BuiltStore> {
  const dir = path.join(root, 'store');
  const store = new LocalFileStore({ basePath: dir, syncWrites: false });
  const node = await openTestNode(path.join(root, 'node'), store, { nodeId: NODE_ID });
  try {
    const { wal, system, tiering } = node;
    await appendEntries(wal, 1, 600);
    const full = await system.checkpoint({ kind: 'full' });
    await appendEntries(wal, 601, 300);
    const first = await system.checkpoint({ kind: 'incremental' });
    await appendEntries(wal, 901, 300);
    const second = await system.checkpoint({ kind: 'incremental' });
    await appendEntries(wal, 1201, TOTAL_ENTRIES - 1200);
    await wal.seal();
    await tiering.reconciler.reconcile({ flush: true });
    await node.queue.drain();
    await eventually('every sealed segment is uploaded', () => tiering.shipper.pending().length === 0);
    return { dir, full: full.id, incrementals: [first.id, second.id] };
  } finally {
    await node.close();
  }
}

/** A fresh copy of the built store's directory to damage. */
export function copyStore(built: BuiltStore, to: string): BuiltStore {
  cpSync(built.dir, to, { recursive: true });
  return { ...built, dir: to };
}

export function manifestPath(dir: string, id: number): string {
  return path.join(dir, PREFIX, 'checkpoints', padNumber(id), 'manifest.json');
}

export function readManifestFile(dir: string, id: number): Manifest {
  return JSON.parse(readFileSync(manifestPath(dir, id), 'utf8')) as Manifest;
}

/** Rewrites a manifest in place (as a damaged or tampered store would hold it). */
export function rewriteManifest(dir: string, id: number, change: (manifest: Manifest) => void): void {
  const manifest = readManifestFile(dir, id);
  change(manifest);
  writeFileSync(manifestPath(dir, id), `${JSON.stringify(manifest)}\n`);
}

export function blockPath(dir: string, hash: string): string {
  return path.join(dir, PREFIX, 'blocks', hash.slice(0, 2), hash);
}

export function blockKeyOf(hash: string): string {
  return `${PREFIX}/blocks/${hash.slice(0, 2)}/${hash}`;
}

/** The hashes checkpoint `id`'s manifest names and no other of `ids` does. */
export function ownBlocks(dir: string, id: number, ids: readonly number[]): string[] {
  const hashes = (m: Manifest) => Object.values(m.components).flatMap((c) => c.blocks.map((b) => b.hash));
  const others = new Set(
    ids.filter((other) => other !== id).flatMap((other) => hashes(readManifestFile(dir, other))),
  );
  return [...new Set(hashes(readManifestFile(dir, id)))].filter((h) => !others.has(h)).sort();
}

/** Flips one bit of a file at `offset`. */
export function flipBit(file: string, offset: number, bit = 0x10): void {
  const bytes = readFileSync(file);
  bytes[offset]! ^= bit;
  writeFileSync(file, bytes);
}

/** The WAL pack files, by first LSN, with their keys. */
export function packFiles(dir: string): { file: string; key: string }[] {
  const nodeDir = path.join(dir, PREFIX, 'wal', NODE_ID);
  return readdirSync(nodeDir)
    .filter((name) => name.endsWith('.seg'))
    .sort()
    .map((name) => ({ file: path.join(nodeDir, name), key: `${PREFIX}/wal/${NODE_ID}/${name}` }));
}

/** An offset inside the payload of a pack's first frame: a flip there breaks its CRC, not its length. */
export const FIRST_FRAME_PAYLOAD_BYTE = HEADER_SIZE + 8 + 20;
