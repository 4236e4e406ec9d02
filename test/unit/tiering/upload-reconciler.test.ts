import { InProcessJobQueue } from '../../../src/jobs/in-process-job-queue';
import type { JobData, JobHandler } from '../../../src/jobs/job-queue';
import { JobRunner } from '../../../src/jobs/job-runner';
import type { SegmentShipper } from '../../../src/tiering/segment-shipper';
import { UploadReconciler } from '../../../src/tiering/upload-reconciler';
import { FRAME_HEADER_SIZE, HEADER_SIZE } from '../../../src/wal/format';
import { ManualClock } from '../../support/manual-clock';
import {
  KiB,
  appendBytes,
  eventually,
  flipByte,
  openParts,
  sealedSegments,
  shipperFor,
  type Parts,
} from '../../support/tiering/tiering-fixtures';

const DELAY = 1000;

describe('UploadReconciler', () => {
  let node: Parts;
  let queue: InProcessJobQueue;
  let shipper: SegmentShipper;
  let reconciler: UploadReconciler;
  let clock: ManualClock;
  let next: number;
  /** What a segment-upload job does; by default it only records that it ran. */
  let handle: JobHandler;
  let runs: JobData[];
  const ship: JobHandler = (data) => shipper.ship({ flush: data.flush === true });

  beforeEach(async () => {
    node = await openParts();
    clock = new ManualClock();
    shipper = shipperFor(node, { packTargetBytes: 1024 * KiB, maxPackDelayMs: DELAY, clock });
    runs = [];
    handle = async () => null;
    const runner = new JobRunner().register('segment-upload', (data, context) => {
      runs.push(data);
      return handle(data, context);
    });
    queue = new InProcessJobQueue(runner);
    // Pack target 0: every reconciliation has something to ship (the pack rule has its own test).
    reconciler = new UploadReconciler(shipper, queue, {
      intervalMs: 0,
      maxPackDelayMs: DELAY,
      packTargetBytes: 0,
      clock,
    });
    next = await appendBytes(node.wal, 40 * KiB);
    await node.wal.seal();
  });

  afterEach(async () => {
    reconciler.stop();
    await queue.close();
    await node.close();
  });

  const range = () => {
    const pending = shipper.pending();
    return `${pending[0]!.firstLsn}-${pending.at(-1)!.lastLsn}`;
  };

  it('enqueues nothing while the pending bytes make no full pack and none is due', async () => {
    const patient = new UploadReconciler(shipper, queue, {
      intervalMs: 0,
      maxPackDelayMs: DELAY,
      packTargetBytes: 1024 * KiB,
      clock,
    });
    expect(await patient.reconcile()).toBeUndefined();
    expect(await queue.list()).toEqual([]);
    clock.advance(DELAY);
    expect((await patient.reconcile())?.id).toMatch(/\.flush$/);
  });

  it('enqueues one job per pending range: the same id while nothing changed, a new one after a seal', async () => {
    const first = await reconciler.reconcile();
    expect(first).toMatchObject({
      id: `segment-upload.${range()}`,
      name: 'segment-upload',
      data: { flush: false },
    });
    await queue.drain();
    const again = await reconciler.reconcile();
    expect(again).toMatchObject({ id: first!.id, state: 'completed' });
    await queue.drain();
    expect(runs).toHaveLength(1);

    await appendBytes(node.wal, 20 * KiB, next);
    await node.wal.seal();
    const grown = await reconciler.reconcile();
    expect(grown!.id).toBe(`segment-upload.${range()}`);
    expect(grown!.id).not.toBe(first!.id);
    await queue.drain();
    expect(runs).toHaveLength(2);
    expect(await queue.list({ name: 'segment-upload' })).toHaveLength(2);
  });

  it('asks for the partial pack (a .flush id) once the oldest pending segment waited maxPackDelayMs', async () => {
    const waiting = await reconciler.reconcile();
    clock.advance(DELAY - 1);
    expect((await reconciler.reconcile())!.id).toBe(waiting!.id);
    clock.advance(1);
    const due = await reconciler.reconcile();
    expect(due).toMatchObject({ id: `segment-upload.${range()}.flush`, data: { flush: true } });
    // Asked for explicitly: flushed whatever the age.
    await appendBytes(node.wal, 20 * KiB, next);
    await node.wal.seal();
    expect(await reconciler.reconcile({ flush: true })).toMatchObject({
      id: `segment-upload.${range()}.flush`,
      data: { flush: true },
    });
  });

  it('gives nothing to do once the jobs have shipped everything', async () => {
    handle = ship;
    await reconciler.reconcile({ flush: true });
    await queue.drain();
    expect(shipper.pending()).toEqual([]);
    expect(node.uploads.list()).toHaveLength(1);
    expect(await reconciler.reconcile()).toBeUndefined();
  });

  it('starts the wait afresh for a new oldest segment', async () => {
    handle = ship;
    await reconciler.reconcile();
    clock.advance(DELAY);
    await reconciler.reconcile(); // .flush: ships all there is
    await queue.drain();
    expect(shipper.pending()).toEqual([]);
    await appendBytes(node.wal, 20 * KiB, next);
    await node.wal.seal();
    const fresh = await reconciler.reconcile();
    expect(fresh).toMatchObject({ id: `segment-upload.${range()}`, data: { flush: false } });
  });

  it('gives a range whose job failed for good a fresh .retry- id', async () => {
    handle = ship;
    const victim = sealedSegments(node.wal)[0]!;
    const offset = HEADER_SIZE + FRAME_HEADER_SIZE + 20;
    await flipByte(victim.path, offset);
    const failed = await reconciler.reconcile({ flush: true });
    await queue.drain();
    expect(await queue.get(failed!.id)).toMatchObject({
      state: 'failed',
      attemptsMade: 1,
      error: { code: 'CHECKSUM_MISMATCH' },
    });

    await flipByte(victim.path, offset); // repaired
    clock.advance(5);
    const retry = await reconciler.reconcile({ flush: true });
    expect(retry!.id).toBe(`${failed!.id}.retry-${clock.now()}`);
    await queue.drain();
    expect(await queue.get(retry!.id)).toMatchObject({ state: 'completed' });
    expect(shipper.pending()).toEqual([]);
  });

  it('enqueues at start, and never throws from a nudge', async () => {
    reconciler.start();
    await eventually('the start nudge enqueued a job', async () => (await queue.list()).length === 1);
    await queue.drain();
    await queue.close();
    reconciler.nudge('after close'); // the enqueue fails: logged, not thrown
    expect(runs).toHaveLength(1);
  });
});
