import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ComponentSnapshot } from '../../checkpoint/state/state-types';
import { TidemarkError, invalidArgument } from '../../lib/errors';
import { nullPrototypeRecord } from '../../lib/null-prototype';
import { syncDirectory } from '../../lib/fs/sync-directory';
import type { RecoveryResult } from '../recovery-types';
import { summarizeRecovery, type RecoverySummary } from './recovery-summary';
import { readStateFile, writeStateFile } from './state-file';

/**
 * A recovery written to a directory:
 *
 *   {dir}/recovery.json          { formatVersion: 1, target, lsn, components: [outcome + file], stats }
 *   {dir}/{component}.state      one per recovered component (format: state-file.ts)
 *
 * File names are the component id with `%` escapes for `:` and a leading `.`; ids too long for a file name
 * are named by their sha256. `recovery.json` maps every component to its file (a failed component has an
 * `error` and no file). Nothing half-written is ever visible at `dir`: everything goes to a hidden sibling
 * directory, every file and the directory are fsynced, and it is renamed to `dir` at the end. `dir` must not
 * exist or be empty (INVALID_ARGUMENT otherwise: recovery never mixes with or replaces other files).
 */
export const RECOVERY_FILE = 'recovery.json';
export const RECOVERY_DIR_FORMAT_VERSION = 1;

export interface RecoveryDirectoryManifest extends RecoverySummary {
  formatVersion: number;
  /** Component id → file name inside the directory, for every component recovered. */
  files: Record<string, string>;
}

/** The file name of a component's state. */
export function stateFileName(componentId: string): string {
  const escaped = componentId.replace(/%/g, '%25').replace(/:/g, '%3A').replace(/^\./, '%2E');
  if (escaped.length <= 200) return `${escaped}.state`;
  return `%${createHash('sha256').update(componentId).digest('hex')}.state`;
}

async function checkTarget(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw invalidArgument(`output ${dir} is a file, not a directory`, { dir });
    throw error;
  }
  if (entries.length > 0) {
    throw invalidArgument(`output directory ${dir} is not empty; name a new or empty directory`, { dir });
  }
}

async function writeComponent(dir: string, name: string, component: ComponentSnapshot): Promise<void> {
  const handle = await fs.open(path.join(dir, name), 'wx', 0o644);
  try {
    await writeStateFile(handle, component);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes the recovered state to `dir` (see above); returns what recovery.json says. DISK_FULL or IO_ERROR
 * when the disk refuses, with nothing left behind.
 */
export async function writeStateToDirectory(
  result: RecoveryResult,
  dir: string,
): Promise<RecoveryDirectoryManifest> {
  const writer = await StateDirectoryWriter.open(dir);
  try {
    for (const [, component] of [...result.state.components].sort(([a], [b]) => (a < b ? -1 : 1))) {
      await writer.write(component);
    }
    return await writer.finish(result);
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/**
 * The same directory written component by component as a streamed recovery hands them over
 * (`recoverTo`'s `onComponent`), then `finish` with the result. Until `finish`, everything is in the
 * hidden sibling; `abort` removes it.
 */
export class StateDirectoryWriter {
  private readonly files = nullPrototypeRecord<string>();

  private constructor(
    private readonly target: string,
    private readonly temp: string,
    /** The outermost parent directory `open` created, if any: `abort` removes what it made. */
    private readonly createdParent: string | undefined,
  ) {}

  static async open(dir: string): Promise<StateDirectoryWriter> {
    const target = path.resolve(dir);
    await checkTarget(target);
    const parent = path.dirname(target);
    const temp = path.join(parent, `.${path.basename(target)}.tmp-${randomBytes(4).toString('hex')}`);
    const created = await guarded(target, () => fs.mkdir(parent, { recursive: true }));
    const writer = new StateDirectoryWriter(target, temp, created);
    try {
      await guarded(target, () => fs.mkdir(temp));
    } catch (error) {
      await writer.abort();
      throw error;
    }
    return writer;
  }

  /** Writes one component's state file (fsynced). */
  async write(component: ComponentSnapshot): Promise<void> {
    const name = stateFileName(component.componentId);
    this.files[component.componentId] = name;
    await guarded(this.target, () => writeComponent(this.temp, name, component));
  }

  /** Writes recovery.json and makes the directory appear at its name. */
  async finish(result: RecoveryResult): Promise<RecoveryDirectoryManifest> {
    const manifest: RecoveryDirectoryManifest = {
      formatVersion: RECOVERY_DIR_FORMAT_VERSION,
      ...summarizeRecovery(result),
      files: this.files,
    };
    await guarded(this.target, async () => {
      const handle = await fs.open(path.join(this.temp, RECOVERY_FILE), 'wx', 0o644);
      try {
        await handle.writeFile(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await syncDirectory(this.temp);
      // An empty directory that was there is replaced (rmdir refuses if something appeared in it meanwhile).
      await fs.rmdir(this.target).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      await fs.rename(this.temp, this.target);
      await syncDirectory(path.dirname(this.target));
    });
    return manifest;
  }

  /** Removes what was written, and the parent directories `open` created (those still empty). */
  async abort(): Promise<void> {
    await fs.rm(this.temp, { recursive: true, force: true }).catch(() => undefined);
    if (this.createdParent === undefined) return;
    for (let dir = path.dirname(this.temp); ; dir = path.dirname(dir)) {
      if (
        (await fs
          .rmdir(dir)
          .then(() => true)
          .catch(() => false)) === false
      )
        return;
      if (dir === this.createdParent || path.dirname(dir) === dir) return;
    }
  }
}

/** DISK_FULL or IO_ERROR for what the disk refuses; TidemarkErrors pass. */
async function guarded<T>(target: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof TidemarkError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new TidemarkError(
      code === 'ENOSPC' ? 'DISK_FULL' : 'IO_ERROR',
      `cannot write the recovered state to ${target}: ${(error as Error).message}`,
      { cause: error, details: { dir: target } },
    );
  }
}

/** Reads a directory `writeStateToDirectory` wrote: its recovery.json and every component's state. */
export async function readStateDirectory(
  dir: string,
): Promise<{ manifest: RecoveryDirectoryManifest; components: Map<string, ComponentSnapshot> }> {
  const manifest = JSON.parse(
    await fs.readFile(path.join(dir, RECOVERY_FILE), 'utf8'),
  ) as RecoveryDirectoryManifest;
  if (manifest.formatVersion !== RECOVERY_DIR_FORMAT_VERSION) {
    throw new TidemarkError(
      'UNSUPPORTED_VERSION',
      `${dir}: recovery directory format ${String(manifest.formatVersion)} (this reader knows ${RECOVERY_DIR_FORMAT_VERSION})`,
    );
  }
  // JSON.parse keeps a `__proto__` key as an own key; lookups by id go through a prototype-less copy.
  manifest.files = nullPrototypeRecord(Object.entries(manifest.files ?? {}));
  const components = new Map<string, ComponentSnapshot>();
  for (const [id, name] of Object.entries(manifest.files)) {
    if (name !== stateFileName(id)) throw invalidArgument(`${dir}: unexpected file name ${name} for ${id}`);
    const component = readStateFile(await fs.readFile(path.join(dir, name)), path.join(dir, name));
    if (component.componentId !== id) {
      throw new TidemarkError('INVALID_STATE_DATA', `${name} holds ${component.componentId}, not ${id}`);
    }
    components.set(id, component);
  }
  return { manifest, components };
}
