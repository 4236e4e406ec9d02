import { invalidArgument } from '../../lib/errors';
import type { ComponentSnapshot } from '../../checkpoint/state/state-types';
import type { SlicedComponent } from '../../checkpoint/run/sliced-component';
import type { ComponentOutcome, RecoveryResult, RecoveryTarget } from '../recovery-types';
import { describeError } from './recovery-summary';
import { announcedComponents, sortedComponents, type StreamedRecovery } from './streamed-recovery';

/**
 * A recovery as NDJSON (`application/x-ndjson`, one JSON object per line, each with a `type`):
 *
 *   {"type":"header","format":"tidemark-recovery","version":1,"target":{…},"lsn":N,"components":[ids]}
 *   {"type":"record","component":"c","key":"<base64>","value":"<base64>"}      one per live key, key order
 *   {"type":"component","componentId":"c","keyCount":…,"fromCheckpoint":…, …}   after the component's records
 *                                                   (in a streamed recovery: all of them, before the trailer)
 *   {"type":"trailer","stats":{…}}                                             last line of a whole stream
 *
 * A component that failed (optimistic mode) has no records and a `component` line with an `error`. A stream
 * that fails after it has started ends with `{"type":"error","error":{"code","message"}}` instead of the
 * trailer: a stream without a trailer is incomplete, whatever else it holds.
 */
export const NDJSON_FORMAT = 'tidemark-recovery';
export const NDJSON_VERSION = 1;

export async function* toNdjson(result: RecoveryResult): AsyncGenerator<string> {
  yield ndjsonHeader(result.target, result.lsn, announcedComponents(result));
  const outcomes = new Map(result.components.map((c) => [c.componentId, c]));
  for (const component of sortedComponents(result)) {
    yield* ndjsonRecords(component);
    const outcome = outcomes.get(component.componentId) ?? { componentId: component.componentId };
    outcomes.delete(component.componentId);
    yield line({ type: 'component', ...outcome });
  }
  for (const failed of outcomes.values()) yield line({ type: 'component', ...failed });
  yield line({ type: 'trailer', stats: result.stats });
}

export function ndjsonHeader(target: RecoveryTarget, lsn: number, components: readonly string[]): string {
  return line({ type: 'header', format: NDJSON_FORMAT, version: NDJSON_VERSION, target, lsn, components });
}

/** One `record` line per live key of a recovered component, in key order. */
export function* ndjsonRecords(component: SlicedComponent | ComponentSnapshot): Generator<string> {
  const prefix = `{"type":"record","component":${JSON.stringify(component.componentId)},"key":"`;
  for (const record of component.records) {
    yield `${prefix}${record.key.toString('base64')}","value":"${record.value.toString('base64')}"}\n`;
  }
}

/** The `component` lines of `outcomes` not written yet, then the trailer. */
export function ndjsonEnd(outcomes: readonly ComponentOutcome[], stats: RecoveryResult['stats']): string {
  return (
    outcomes.map((outcome) => line({ type: 'component', ...outcome })).join('') +
    line({ type: 'trailer', stats })
  );
}

/** The line that ends a stream that failed after it started. */
export function ndjsonErrorLine(error: unknown): string {
  return line({ type: 'error', error: describeError(error) });
}

function line(value: object): string {
  return `${JSON.stringify(value)}\n`;
}

/** Parses an NDJSON recovery stream (the whole text). INVALID_ARGUMENT if it is not one. */
export function readNdjson(text: string): StreamedRecovery {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const parsed = lines.map((l, i) => {
    try {
      return JSON.parse(l) as Record<string, unknown> & { type?: string };
    } catch {
      throw invalidArgument(`line ${i + 1} is not JSON`);
    }
  });
  const head = parsed[0];
  if (head?.type !== 'header' || head.format !== NDJSON_FORMAT) {
    throw invalidArgument('not a Tidemark recovery stream (no header line)');
  }
  if (head.version !== NDJSON_VERSION) {
    throw invalidArgument(`recovery stream version ${String(head.version)} is not ${NDJSON_VERSION}`);
  }
  const out: StreamedRecovery = {
    header: {
      target: head.target as StreamedRecovery['header']['target'],
      lsn: head.lsn as number,
      components: head.components as string[],
    },
    state: new Map(),
    outcomes: [],
    complete: false,
  };
  for (const entry of parsed.slice(1)) {
    const { type, ...rest } = entry;
    if (type === 'record') {
      const id = rest.component as string;
      const records = out.state.get(id) ?? [];
      out.state.set(id, records);
      records.push({
        key: Buffer.from(rest.key as string, 'base64'),
        value: Buffer.from(rest.value as string, 'base64'),
      });
    } else if (type === 'component') {
      out.outcomes.push(rest as unknown as StreamedRecovery['outcomes'][number]);
      if (!rest.error && !out.state.has(rest.componentId as string))
        out.state.set(rest.componentId as string, []);
    } else if (type === 'trailer') {
      out.stats = rest.stats as StreamedRecovery['stats'];
      out.complete = true;
    } else if (type === 'error') {
      out.error = rest.error as StreamedRecovery['error'];
    }
  }
  return out;
}
