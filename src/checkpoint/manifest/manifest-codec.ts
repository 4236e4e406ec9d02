import type { ZodIssue } from 'zod';
import { TidemarkError } from '../../lib/errors';
import { nullPrototypeRecord } from '../../lib/null-prototype';
import {
  type ComponentManifest,
  type Manifest,
  type ManifestBlockRef,
  manifestSchema,
  READABLE_MANIFEST_VERSIONS,
} from './manifest';

/**
 * Manifest ⇄ JSON bytes. Encoding writes fields in one fixed order and components sorted by id (UTF-16
 * code unit order, as `Array.prototype.sort` gives), so equal manifests encode to equal bytes. Decoding
 * checks, in order: JSON (DESERIALIZATION_ERROR), the format version (UNSUPPORTED_VERSION), the schema
 * (DESERIALIZATION_ERROR naming the field), then the manifest's internal consistency (INVALID_STATE_DATA).
 * `encodeManifest` runs the same checks first, so a writer never stores a manifest a reader would refuse.
 */

export interface DecodeManifestOptions {
  /** The id the manifest's key names; a manifest claiming another id is INVALID_STATE_DATA. */
  expectedId?: number;
}

export function encodeManifest(manifest: Manifest): Buffer {
  const checked = validateManifest(manifest);
  return Buffer.from(`${JSON.stringify(canonical(checked))}\n`, 'utf8');
}

export function decodeManifest(bytes: Buffer, options: DecodeManifestOptions = {}): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new TidemarkError(
      'DESERIALIZATION_ERROR',
      `manifest is not valid JSON: ${(error as Error).message}`,
      {
        cause: error,
        details: { expectedId: options.expectedId },
      },
    );
  }
  const manifest = validateManifest(raw);
  if (options.expectedId !== undefined && manifest.checkpointId !== options.expectedId) {
    throw inconsistent(
      manifest,
      `manifest of checkpoint ${options.expectedId} names checkpoint ${manifest.checkpointId}`,
    );
  }
  return manifest;
}

/** Version, schema and consistency checks of a parsed manifest; returns it typed. */
export function validateManifest(raw: unknown): Manifest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TidemarkError('DESERIALIZATION_ERROR', 'invalid manifest: expected a JSON object');
  }
  const version: unknown = (raw as { formatVersion?: unknown }).formatVersion;
  if (
    typeof version === 'number' &&
    Number.isInteger(version) &&
    !READABLE_MANIFEST_VERSIONS.includes(version)
  ) {
    throw new TidemarkError(
      'UNSUPPORTED_VERSION',
      `manifest format version ${version} is not supported; this build reads ${READABLE_MANIFEST_VERSIONS.join(' and ')}`,
      { details: { formatVersion: version, supported: READABLE_MANIFEST_VERSIONS, checkpointId: idOf(raw) } },
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as ZodIssue;
    const field = fieldOf(issue);
    throw new TidemarkError('DESERIALIZATION_ERROR', `invalid manifest: ${field}: ${issue.message}`, {
      details: { field, checkpointId: idOf(raw), issues: parsed.error.issues.length },
    });
  }
  checkConsistency(parsed.data);
  return parsed.data;
}

function checkConsistency(m: Manifest): void {
  const id = m.checkpointId;
  if (m.kind === 'full') {
    if (m.parentId !== null) throw inconsistent(m, `full checkpoint ${id} has a parent (${m.parentId})`);
    if (m.depth !== 0) throw inconsistent(m, `full checkpoint ${id} has depth ${m.depth}, expected 0`);
    if (m.baseId !== id)
      throw inconsistent(m, `full checkpoint ${id} has baseId ${m.baseId}, expected ${id}`);
    if (m.fromLsn !== 0) throw inconsistent(m, `full checkpoint ${id} has fromLsn ${m.fromLsn}, expected 0`);
    for (const [componentId, component] of Object.entries(m.components)) {
      if (component.clearedAt !== undefined) {
        throw inconsistent(
          m,
          `full checkpoint ${id}: component ${componentId} has clearedAt (incremental only)`,
        );
      }
    }
  } else {
    if (m.parentId === null) throw inconsistent(m, `incremental checkpoint ${id} has no parent`);
    if (m.parentId >= id) {
      throw inconsistent(m, `incremental checkpoint ${id} has parent ${m.parentId}: a parent's id is lower`);
    }
    if (m.depth < 1) throw inconsistent(m, `incremental checkpoint ${id} has depth ${m.depth}, expected ≥ 1`);
    if (m.baseId > m.parentId) {
      throw inconsistent(
        m,
        `incremental checkpoint ${id} has baseId ${m.baseId} above its parent ${m.parentId}`,
      );
    }
    if ((m.depth === 1) !== (m.baseId === m.parentId)) {
      throw inconsistent(
        m,
        `incremental checkpoint ${id}: depth ${m.depth} with parent ${m.parentId} and base ${m.baseId} (depth 1 ⇔ parent is the base)`,
      );
    }
    for (const [componentId, component] of Object.entries(m.components))
      checkClear(m, componentId, component);
  }
  if (m.fromLsn > m.lsn) throw inconsistent(m, `checkpoint ${id}: fromLsn ${m.fromLsn} above lsn ${m.lsn}`);
  for (const [componentId, component] of Object.entries(m.components))
    checkKeyRanges(m, componentId, component);
}

/** Format 1 names no key ranges; format 2 names one per block, and they rise without overlapping. */
function checkKeyRanges(m: Manifest, componentId: string, component: ComponentManifest): void {
  let previousLast: Buffer | undefined;
  component.blocks.forEach((block: ManifestBlockRef, i) => {
    const where = `checkpoint ${m.checkpointId}: component ${componentId} block ${i}`;
    const hasRange = block.firstKey !== undefined || block.lastKey !== undefined;
    if (m.formatVersion === 1) {
      if (hasRange) throw inconsistent(m, `${where} has a key range (format 2 only)`);
      return;
    }
    if (block.firstKey === undefined || block.lastKey === undefined) {
      throw inconsistent(m, `${where} has no key range (format 2 names firstKey and lastKey)`);
    }
    const first = Buffer.from(block.firstKey, 'base64');
    const last = Buffer.from(block.lastKey, 'base64');
    if (Buffer.compare(first, last) > 0) throw inconsistent(m, `${where}: firstKey is above lastKey`);
    if ((block.recordCount === 1) !== first.equals(last)) {
      throw inconsistent(
        m,
        block.recordCount === 1
          ? `${where}: one record, but firstKey and lastKey differ`
          : `${where}: ${block.recordCount} records (keys unique), but firstKey equals lastKey`,
      );
    }
    if (previousLast !== undefined && Buffer.compare(previousLast, first) >= 0) {
      throw inconsistent(m, `${where}: its keys do not lie above the block before's`);
    }
    previousLast = last;
  });
}

function checkClear(m: Manifest, componentId: string, component: ComponentManifest): void {
  const cleared = component.clearedAt;
  if (cleared === undefined) return;
  if (cleared.lsn <= m.fromLsn || cleared.lsn > m.lsn) {
    throw inconsistent(
      m,
      `checkpoint ${m.checkpointId}: component ${componentId} cleared at LSN ${cleared.lsn}, outside (${m.fromLsn}, ${m.lsn}]`,
    );
  }
}

function inconsistent(m: Manifest, message: string): TidemarkError {
  return new TidemarkError('INVALID_STATE_DATA', `inconsistent manifest: ${message}`, {
    details: { checkpointId: m.checkpointId },
  });
}

function idOf(raw: object): unknown {
  return (raw as { checkpointId?: unknown }).checkpointId;
}

/** `components.window_1.blocks[0].hash`; `(root)` for the object itself. */
function fieldOf(issue: ZodIssue): string {
  let field = '';
  for (const part of issue.path)
    field += typeof part === 'number' ? `[${part}]` : field === '' ? part : `.${part}`;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.join(', ');
    return field === '' ? `unknown field ${keys}` : `${field}: unknown field ${keys}`;
  }
  return field === '' ? '(root)' : field;
}

/** A copy with every object's keys in one fixed order (the schema's), components sorted by id. */
function canonical(m: Manifest): Manifest {
  const components = nullPrototypeRecord<ComponentManifest>();
  for (const componentId of Object.keys(m.components).sort()) {
    const c = m.components[componentId] as ComponentManifest;
    components[componentId] = {
      blocks: c.blocks.map((b) => ({
        hash: b.hash,
        recordCount: b.recordCount,
        rawBytes: b.rawBytes,
        storedBytes: b.storedBytes,
        ...(b.firstKey === undefined ? {} : { firstKey: b.firstKey }),
        ...(b.lastKey === undefined ? {} : { lastKey: b.lastKey }),
      })),
      keyCount: c.keyCount,
      bytes: c.bytes,
      digest: c.digest,
      ...(c.clearedAt === undefined
        ? {}
        : { clearedAt: { lsn: c.clearedAt.lsn, timestamp: c.clearedAt.timestamp } }),
    };
  }
  const s = m.stats;
  return {
    formatVersion: m.formatVersion,
    checkpointId: m.checkpointId,
    kind: m.kind,
    parentId: m.parentId,
    baseId: m.baseId,
    depth: m.depth,
    fromLsn: m.fromLsn,
    lsn: m.lsn,
    createdAt: m.createdAt,
    timestamp: m.timestamp,
    fencingToken: m.fencingToken,
    nodeId: m.nodeId,
    codec: m.codec,
    components,
    stats: {
      logicalBytes: s.logicalBytes,
      storedBytes: s.storedBytes,
      newBytes: s.newBytes,
      newBlocks: s.newBlocks,
      reusedBlocks: s.reusedBlocks,
      durationMs: s.durationMs,
    },
  };
}
