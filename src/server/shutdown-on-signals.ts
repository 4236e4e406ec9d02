import type { INestApplication } from '@nestjs/common';
import type { Logger as PinoLogger } from 'pino';
import { settleWithin } from '../lib/settle-within';
import { SegmentedWal } from '../wal';

/** How long the WAL itself may take to close once the rest is cut off (it needs only the local disk). */
const WAL_CLOSE_MS = 5_000;

/**
 * SIGTERM and SIGINT close the service in order — HTTP, recoveries, tiering (no new work from the first
 * moment), checkpoints, then the WAL — and exit 0. Whatever Redis or the object store do, it ends within
 * `timeoutMs`: then what is still closing is cut off, the WAL is closed directly (its appends flushed, its
 * lock released) and the process exits 1. A second signal cuts off at once.
 */
export function shutDownOnSignals(
  app: INestApplication,
  timeoutMs: number,
  logger: PinoLogger,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  let started = false;
  let cutting = false;
  const cutOff = async (why: string) => {
    if (cutting) return;
    cutting = true;
    logger.error({ timeoutMs }, `${why}: cutting the shutdown short; closing the WAL and exiting`);
    const closed = await settleWithin(app.get(SegmentedWal).close(), WAL_CLOSE_MS);
    if (closed === 'timed-out') logger.error('the WAL did not close in time either');
    exit(1);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (started) {
      void cutOff(`${signal} again`);
      return;
    }
    started = true;
    logger.info({ signal, timeoutMs }, 'shutting down');
    void settleWithin(app.close(), timeoutMs).then((outcome) => {
      if (outcome === 'timed-out') return cutOff(`the shutdown did not finish in ${timeoutMs} ms`);
      if (cutting) return;
      logger.info('shut down');
      exit(0);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
