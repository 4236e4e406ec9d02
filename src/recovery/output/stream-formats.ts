import type { SlicedComponent } from '../../checkpoint/run/sliced-component';
import type { ComponentOutcome, RecoveryResult, RecoveryTarget } from '../recovery-types';
import { binaryComponent, binaryEnd, binaryErrorFrame, binaryHeader } from './binary-stream';
import { ndjsonEnd, ndjsonErrorLine, ndjsonHeader, ndjsonRecords } from './ndjson';

/**
 * A recovery stream's format in parts, for a recovery streamed component by component: the header once the
 * cut is known, each component as it completes, then the end (every component's outcome and the stats), or
 * the error that stopped it.
 */
export interface RecoveryStreamFormat {
  readonly contentType: string;
  /** Whether the error frame may follow a component cut short (NDJSON: lines stand alone; binary: no). */
  readonly errorFollowsAnyPart: boolean;
  header(target: RecoveryTarget, lsn: number, componentIds: readonly string[]): string | Buffer;
  component(component: SlicedComponent): Iterable<string | Buffer>;
  end(outcomes: readonly ComponentOutcome[], stats: RecoveryResult['stats']): string | Buffer;
  error(error: unknown): string | Buffer;
}

export const RECOVERY_STREAM_FORMATS: Record<'ndjson' | 'binary', RecoveryStreamFormat> = {
  ndjson: {
    contentType: 'application/x-ndjson; charset=utf-8',
    errorFollowsAnyPart: true,
    header: ndjsonHeader,
    component: ndjsonRecords,
    end: ndjsonEnd,
    error: ndjsonErrorLine,
  },
  binary: {
    contentType: 'application/octet-stream',
    errorFollowsAnyPart: false,
    header: binaryHeader,
    component: binaryComponent,
    end: binaryEnd,
    error: binaryErrorFrame,
  },
};
