import type { CheckpointCatalog } from '../checkpoint/catalog/catalog';
import type { SegmentInfo } from '../wal';
import type { UploadedSegments } from '../wal/archive';

/**
 * The one answer to "may this local WAL segment be deleted?" (invariant 3), owned by the node and asked by
 * the WAL as its `canDelete`: only once its upload was verified (the uploads record says so) AND a committed,
 * restorable checkpoint covers its last LSN — recovery then needs it neither locally nor from the store's
 * copy until that checkpoint goes. The WAL itself keeps the newest `retentionSegments` sealed segments
 * whatever this says, and deletes oldest first, so the local log never has a hole. How long the store keeps
 * its copies (the PITR window) is the retention job's decision (tiering/maintenance/retention-policy.ts).
 */
export class SegmentRetention {
  constructor(
    private readonly uploads: Pick<UploadedSegments, 'isUploaded'>,
    private readonly catalog: Pick<CheckpointCatalog, 'latestRestorable'>,
  ) {}

  private disarmed = false;

  /**
   * From now on nothing may go: a closing node stops deleting before its uploads record closes (as the
   * service's retention guard was uninstalled before), so a checkpoint committed while it closes deletes
   * nothing either.
   */
  disarm(): void {
    this.disarmed = true;
  }

  canDelete(segment: SegmentInfo): boolean {
    if (this.disarmed || !this.uploads.isUploaded(segment)) return false;
    const covering = this.catalog.latestRestorable();
    return covering !== undefined && segment.lastLsn <= covering.lsn;
  }
}
