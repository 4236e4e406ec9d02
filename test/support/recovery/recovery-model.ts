import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import type { ComponentSnapshot } from '../../../src/checkpoint/state/state-types';
import type { StreamedRecovery } from '../../../src/recovery/output/streamed-recovery';

/**
 * The expected state of a recovery, kept by the tests that append entries through the API: every appended
 * entry with its LSN and time, replayed up to a target. States compare as component → base64 key → base64 value.
 */

export type ApiChange =
  { op: 'put'; key: string; value: string } | { op: 'delete'; key: string } | { op: 'clear' };
export type ModelState = Map<string, Map<string, string>>;

export interface Appended {
  lsn: number;
  componentId: string;
  timestamp: number;
  changes: ApiChange[];
}

export const T0 = 1_700_000_000_000_000;
export const b64 = (text: string) => Buffer.from(text).toString('base64');

export class LogModel {
  readonly log: Appended[] = [];
  private readonly sequences = new Map<string, number>();
  /** µs; each entry is 1 ms (plus `jitter`) after the previous one. */
  clock = T0;

  get lastLsn(): number {
    return this.log[this.log.length - 1]?.lsn ?? 0;
  }

  /** Appends entries with the given changes (one entry each) to `componentId` through POST /v1/wal/entries. */
  async append(app: NestExpressApplication, componentId: string, changes: ApiChange[][]): Promise<void> {
    const entries = changes.map((entryChanges) => {
      const sequence = (this.sequences.get(componentId) ?? 0) + 1;
      this.sequences.set(componentId, sequence);
      this.clock += 1000 + (sequence % 3) * 7;
      return { componentId, sequence, timestamp: this.clock, changes: entryChanges };
    });
    const res = await request(app.getHttpServer()).post('/v1/wal/entries').send({ entries }).expect(201);
    const { firstLsn } = res.body as { firstLsn: number };
    entries.forEach((entry, i) => this.log.push({ ...entry, lsn: firstLsn + i }));
  }

  /** `count` entries of puts and some deletes over 20 keys. */
  async appendMany(
    app: NestExpressApplication,
    componentId: string,
    count: number,
    round: number,
  ): Promise<void> {
    const changes = Array.from({ length: count }, (_, i): ApiChange[] =>
      i % 7 === 6
        ? [{ op: 'delete', key: b64(`k${(i * 3) % 20}`) }]
        : [
            { op: 'put', key: b64(`k${i % 20}`), value: b64(`${componentId}-${round}-${i}`) },
            { op: 'put', key: b64(`r${round}`), value: b64('x'.repeat(i)) },
          ],
    );
    await this.append(app, componentId, changes);
  }

  /** The state replaying the log up to `lsn` gives (components left empty are absent). */
  stateAt(lsn: number, components?: readonly string[]): ModelState {
    const state: ModelState = new Map();
    for (const entry of this.log) {
      if (entry.lsn > lsn) break;
      if (components && !components.includes(entry.componentId)) continue;
      const map = state.get(entry.componentId) ?? new Map<string, string>();
      state.set(entry.componentId, map);
      for (const change of entry.changes) {
        if (change.op === 'put') map.set(change.key, change.value);
        else if (change.op === 'delete') map.delete(change.key);
        else map.clear();
      }
    }
    for (const [id, map] of state) if (map.size === 0) state.delete(id);
    return state;
  }
}

/** A streamed recovery (NDJSON or binary) as a model state. */
export function streamedState(streamed: StreamedRecovery): ModelState {
  return asModelState([...streamed.state].map(([componentId, records]) => ({ componentId, records })));
}

/** Recovered snapshots (or records read back from a directory) as a model state. */
export function asModelState(
  components: Iterable<{ componentId: string; records: readonly { key: Buffer; value: Buffer }[] }>,
): ModelState {
  const state: ModelState = new Map();
  for (const { componentId, records } of components) {
    if (records.length === 0) continue;
    state.set(
      componentId,
      new Map(records.map((r) => [r.key.toString('base64'), r.value.toString('base64')])),
    );
  }
  return state;
}

export type { ComponentSnapshot };
