import { invalidArgument } from '../lib/errors';
import { assertValidKey, assertValidSegment } from './key-rules';

/**
 * The one family of functions that builds — and parses back — every object key Tidemark writes:
 *
 *   {prefix}/blocks/{h[0..2]}/{h}                           content-addressed checkpoint blocks
 *   {prefix}/checkpoints/{id}/manifest.json                 one manifest per checkpoint
 *   {prefix}/wal/{nodeId}/{firstLsn}-{lastLsn}.seg          uploaded WAL segments
 *   {prefix}/cluster-checkpoints/{id}.json                  a committed cluster checkpoint, as this node knows it
 *
 * Numbers are zero-padded to 20 digits (as WAL file names are), so keys list in numeric order. Every part a
 * caller supplies is checked (INVALID_ARGUMENT): the prefix is a valid key, a node id is one valid segment, a
 * hash is lowercase hex, numbers are non-negative safe integers. Nothing a caller passes can leave the
 * prefix. Parsers return undefined for a key of another shape, so a listing may contain foreign objects.
 */

const WIDTH = 20;
const HASH = /^[0-9a-f]{8,128}$/;
const PADDED = /^\d{20}$/;

export function padNumber(value: number): string {
  return value.toString().padStart(WIDTH, '0');
}

function checkPrefix(prefix: string): string {
  assertValidKey(prefix);
  return prefix;
}

function checkNumber(what: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`invalid ${what} ${String(value)}: expected a non-negative integer`, {
      [what]: value,
    });
  }
  return value;
}

function checkHash(hashHex: string): string {
  if (typeof hashHex !== 'string' || !HASH.test(hashHex)) {
    throw invalidArgument(
      `invalid block hash ${JSON.stringify(hashHex)}: expected 8-128 lowercase hex digits`,
      {
        hash: hashHex,
      },
    );
  }
  return hashHex;
}

export function blocksPrefix(prefix: string): string {
  return `${checkPrefix(prefix)}/blocks/`;
}

export function blockKey(prefix: string, hashHex: string): string {
  const hash = checkHash(hashHex);
  return `${blocksPrefix(prefix)}${hash.slice(0, 2)}/${hash}`;
}

export function checkpointsPrefix(prefix: string): string {
  return `${checkPrefix(prefix)}/checkpoints/`;
}

/** Everything stored for one checkpoint lives under this prefix. */
export function checkpointPrefix(prefix: string, checkpointId: number): string {
  return `${checkpointsPrefix(prefix)}${padNumber(checkNumber('checkpointId', checkpointId))}/`;
}

export function manifestKey(prefix: string, checkpointId: number): string {
  return `${checkpointPrefix(prefix, checkpointId)}manifest.json`;
}

export function clusterCheckpointKey(prefix: string, clusterCheckpointId: number): string {
  return `${checkPrefix(prefix)}/cluster-checkpoints/${padNumber(checkNumber('clusterCheckpointId', clusterCheckpointId))}.json`;
}

export function walPrefix(prefix: string): string {
  return `${checkPrefix(prefix)}/wal/`;
}

export function walNodePrefix(prefix: string, nodeId: string): string {
  assertValidSegment('nodeId', nodeId);
  return `${walPrefix(prefix)}${nodeId}/`;
}

export function walSegmentKey(prefix: string, nodeId: string, firstLsn: number, lastLsn: number): string {
  checkNumber('firstLsn', firstLsn);
  checkNumber('lastLsn', lastLsn);
  if (lastLsn < firstLsn) {
    throw invalidArgument(`invalid LSN range ${firstLsn}-${lastLsn}: last below first`, {
      firstLsn,
      lastLsn,
    });
  }
  return `${walNodePrefix(prefix, nodeId)}${padNumber(firstLsn)}-${padNumber(lastLsn)}.seg`;
}

/** The rest of `key` after `start`, or undefined when `key` does not begin with it. */
function after(key: string, start: string): string | undefined {
  return key.startsWith(start) ? key.slice(start.length) : undefined;
}

function parsePadded(text: string): number | undefined {
  if (!PADDED.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** The hash a block key names. */
export function parseBlockKey(prefix: string, key: string): string | undefined {
  const rest = after(key, blocksPrefix(prefix));
  const match = rest === undefined ? null : /^([0-9a-f]{2})\/([0-9a-f]{8,128})$/.exec(rest);
  return match !== null && match[2].startsWith(match[1]) ? match[2] : undefined;
}

/** The checkpoint id a manifest key names (a catalog rebuild lists `checkpointsPrefix`, parsing each key). */
export function parseManifestKey(prefix: string, key: string): number | undefined {
  const rest = after(key, checkpointsPrefix(prefix));
  const match = rest === undefined ? null : /^(\d+)\/manifest\.json$/.exec(rest);
  return match === null ? undefined : parsePadded(match[1]);
}

/**
 * The prefix and checkpoint id of any node's manifest key (a cluster checkpoint names every member's
 * manifest by its whole key, so a restore finds each node's checkpoints under its own prefix).
 */
export function splitManifestKey(key: string): { prefix: string; checkpointId: number } | undefined {
  const match = /^(.+)\/checkpoints\/(\d{20})\/manifest\.json$/.exec(key);
  if (match === null) return undefined;
  const checkpointId = parsePadded(match[2]);
  if (checkpointId === undefined) return undefined;
  try {
    return { prefix: checkPrefix(match[1]), checkpointId };
  } catch {
    return undefined;
  }
}

export interface WalSegmentKeyParts {
  nodeId: string;
  firstLsn: number;
  lastLsn: number;
}

/** The node and LSN range an uploaded segment's key names. */
export function parseWalSegmentKey(prefix: string, key: string): WalSegmentKeyParts | undefined {
  const rest = after(key, walPrefix(prefix));
  const match = rest === undefined ? null : /^([^/]+)\/(\d+)-(\d+)\.seg$/.exec(rest);
  if (match === null) return undefined;
  const firstLsn = parsePadded(match[2]);
  const lastLsn = parsePadded(match[3]);
  if (firstLsn === undefined || lastLsn === undefined || lastLsn < firstLsn) return undefined;
  return { nodeId: match[1], firstLsn, lastLsn };
}
