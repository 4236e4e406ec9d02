import { promises as fs } from 'node:fs';
import type { Logger } from '../lib/logger';
import { syncDirectory } from '../lib/fs/sync-directory';
import type { SegmentInfo, WalOptions } from './wal-options';

/**
 * Deletes old sealed segments in the background: never the newest `retentionSegments`, and an older
 * one only when the guard allows it. Deletion goes oldest first and stops at the first refusal, so
 * the local log never has a hole.
 */
export class RetentionRunner {
  deleted = 0;
  private running?: Promise<number>;
  private stopped = false;

  constructor(
    private readonly dir: string,
    private readonly options: Pick<WalOptions, 'retentionSegments' | 'canDelete'>,
    private readonly logger: Logger,
  ) {}

  /** Starts a run in the background unless one is going. */
  schedule(list: () => SegmentInfo[], replace: (remaining: SegmentInfo[]) => void): void {
    if (this.running || this.stopped) return;
    void this.run(list, replace).catch((error: unknown) =>
      this.logger.error({ err: error }, 'WAL retention cleanup failed; will retry after the next seal'),
    );
  }

  async run(list: () => SegmentInfo[], replace: (remaining: SegmentInfo[]) => void): Promise<number> {
    if (this.running) return this.running;
    this.running = this.deleteOld(list, replace);
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  private async deleteOld(
    list: () => SegmentInfo[],
    replace: (remaining: SegmentInfo[]) => void,
  ): Promise<number> {
    let count = 0;
    for (;;) {
      const sealed = list();
      const oldest = sealed[0];
      if (this.stopped || !oldest || sealed.length <= this.options.retentionSegments) break;
      if (!(await this.options.canDelete({ ...oldest }))) break;
      // Drop it from the list first: a reader that already holds it keeps its open file.
      replace(list().filter((segment) => segment !== oldest));
      await fs.rm(oldest.path, { force: true });
      this.logger.debug({ segment: oldest.name, lastLsn: oldest.lastLsn }, 'deleted old WAL segment');
      count++;
    }
    if (count > 0) await syncDirectory(this.dir);
    this.deleted += count;
    return count;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }
}
