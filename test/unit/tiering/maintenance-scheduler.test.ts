import { InProcessJobQueue } from '../../../src/jobs/in-process-job-queue';
import { JOB_NAMES, type JobData, type JobName } from '../../../src/jobs/job-queue';
import { JobRunner } from '../../../src/jobs/job-runner';
import { systemClock, type Clock } from '../../../src/lib/clock';
import type { Logger } from '../../../src/lib/logger';
import { MaintenanceScheduler, type ScheduledJob } from '../../../src/tiering/maintenance-scheduler';
import { ManualClock } from '../../support/manual-clock';
import { eventually } from '../../support/tiering/tiering-fixtures';

const INTERVAL = 10;

describe('MaintenanceScheduler', () => {
  let queue: InProcessJobQueue;
  let runs: { name: JobName; data: JobData }[];
  let scheduler: MaintenanceScheduler | undefined;
  let clock: ManualClock;
  /** How often the scheduler read the clock: once per trigger or timer tick. */
  let reads: number;
  /** Wall time moved by hand, counted; the intervals tick in real time. */
  const countedClock: Clock = {
    ...systemClock,
    now: () => {
      reads++;
      return clock.now();
    },
  };

  beforeEach(() => {
    runs = [];
    reads = 0;
    clock = new ManualClock(1_000_000 * INTERVAL + 3);
    const runner = new JobRunner();
    for (const name of JOB_NAMES) {
      runner.register(name, async (data) => {
        runs.push({ name, data });
        return null;
      });
    }
    queue = new InProcessJobQueue(runner);
  });

  afterEach(async () => {
    scheduler?.stop();
    scheduler = undefined;
    await queue.close();
  });

  const ids = async () => (await queue.list()).map((job) => job.id).sort();

  it('gives each manual trigger its own id, so each one runs, even within one millisecond', async () => {
    scheduler = new MaintenanceScheduler(queue, [], { clock: countedClock });
    const a = await scheduler.trigger('retention');
    const b = await scheduler.trigger('retention');
    const c = await scheduler.trigger('garbage-collection', { fullSweep: true });
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
    expect(a.id.startsWith('retention.manual-')).toBe(true);
    expect(c).toMatchObject({ name: 'garbage-collection', data: { fullSweep: true } });
    await queue.drain();
    expect(runs.map((run) => run.name)).toEqual(['retention', 'retention', 'garbage-collection']);
  });

  it('enqueues one job per interval, named by the interval, and per id prefix', async () => {
    const jobs: ScheduledJob[] = [
      { name: 'retention', intervalMs: INTERVAL },
      { name: 'garbage-collection', intervalMs: INTERVAL, data: { fullSweep: true }, idPrefix: 'gc-full' },
      { name: 'checkpoint-compaction', intervalMs: 0 }, // off
    ];
    scheduler = new MaintenanceScheduler(queue, jobs, { clock: countedClock });
    scheduler.start();
    scheduler.start(); // idempotent: no second set of timers
    expect(scheduler.running).toBe(true);
    const interval = Math.floor(clock.now() / INTERVAL);

    // Many ticks within one interval: one job each, whatever the number of ticks.
    await eventually('several ticks', () => reads >= 8);
    await queue.drain();
    expect(await ids()).toEqual([`gc-full.${interval}`, `retention.${interval}`]);
    expect(await queue.get(`gc-full.${interval}`)).toMatchObject({
      name: 'garbage-collection',
      data: { fullSweep: true },
    });

    clock.advance(INTERVAL);
    await eventually('the next interval is scheduled', async () => (await ids()).length === 4);
    expect(await ids()).toEqual([
      `gc-full.${interval}`,
      `gc-full.${interval + 1}`,
      `retention.${interval}`,
      `retention.${interval + 1}`,
    ]);

    scheduler.stop();
    expect(scheduler.running).toBe(false);
  });

  it('schedules nothing when every interval is 0', () => {
    scheduler = new MaintenanceScheduler(queue, [{ name: 'retention', intervalMs: 0 }], {
      clock: countedClock,
    });
    scheduler.start();
    expect(scheduler.running).toBe(false);
  });

  it('logs, and does not throw, when the queue refuses a scheduled job', async () => {
    const warnings: object[] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (obj) => warnings.push(obj),
      error: () => undefined,
    };
    await queue.close();
    scheduler = new MaintenanceScheduler(queue, [{ name: 'retention', intervalMs: INTERVAL }], {
      clock: countedClock,
      logger,
    });
    scheduler.start();
    await eventually('a refused enqueue was logged', () => warnings.length > 0);
    expect(warnings[0]).toMatchObject({ job: 'retention', err: expect.objectContaining({ code: 'CLOSED' }) });
  });
});
