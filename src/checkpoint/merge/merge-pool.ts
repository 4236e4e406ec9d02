/**
 * The worker threads of the `optimal` strategy: a piscina pool of `parallelThreads` threads running
 * merge-worker.js, created on first use and closed by CheckpointMerger.close().
 *
 * Worker file resolution: piscina needs a JavaScript file. A build has `merge-worker.js` beside this
 * module (dist/checkpoint/merge/), which is the default. Running from TypeScript sources (ts-jest, @swc/jest,
 * ts-node) there is no such file: `workerFilename` may point at a build's copy (the tests use
 * dist/checkpoint/merge/merge-worker.js after ensureBuilt()), and when the file does not exist the merger
 * merges on the calling thread instead (same result; `MergeStats.workerUnavailable` says so).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Piscina } from 'piscina';
import type { ResolvedKeys } from './delta-resolution';

export const DEFAULT_WORKER_FILENAME = path.join(__dirname, 'merge-worker.js');

export class MergePool {
  private pool: Piscina | undefined;

  constructor(
    readonly filename: string,
    private readonly threads: number,
  ) {}

  /** Is the worker file there? Checked once per merger; without it the merger stays inline. */
  static workerExists(filename: string): boolean {
    return existsSync(filename);
  }

  /** Phase 1 of one component in a worker. `input` (a wire buffer) is moved: unusable afterwards. */
  run(input: ArrayBuffer): Promise<ResolvedKeys> {
    if (this.pool === undefined) {
      this.pool = new Piscina({
        filename: this.filename,
        minThreads: this.threads,
        maxThreads: this.threads,
      });
    }
    return this.pool.run(input, { transferList: [input] }) as Promise<ResolvedKeys>;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool !== undefined) await pool.destroy();
  }
}
