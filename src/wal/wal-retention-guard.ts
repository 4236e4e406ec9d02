import type { SegmentInfo } from './wal-options';

export type SegmentDeletePolicy = (segment: SegmentInfo) => boolean | Promise<boolean>;

/**
 * The WAL's `canDelete`, decided late: the WAL is opened before whatever knows which segments are still
 * needed (the checkpoint system, which itself needs the open WAL), so the WAL asks this holder and the
 * owner of the policy installs it once it exists. Until then every segment is kept (invariant 3: a segment
 * goes only when something says it is no longer needed).
 */
export class WalRetentionGuard {
  private policy: SegmentDeletePolicy | undefined;

  /** Installs the policy (replacing any before); `undefined` goes back to keeping everything. */
  set(policy: SegmentDeletePolicy | undefined): void {
    this.policy = policy;
  }

  /** What the WAL passes as `canDelete`. */
  canDelete(segment: SegmentInfo): boolean | Promise<boolean> {
    return this.policy === undefined ? false : this.policy(segment);
  }
}
