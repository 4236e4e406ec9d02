import { loadConfig } from '../../../src/config';
import { TidemarkError } from '../../../src/lib/errors';
import { ActiveRecoveries } from '../../../src/server/recovery/active-recoveries';
import { DEFAULT_RECOVERY_CONFIG } from '../../../src/recovery/recovery-types';
import {
  parseComponentList,
  parsePlanQuery,
  parseRecoverRequest,
  parseTargetSpec,
  parseTime,
} from '../../../src/recovery/recovery-request';

const invalid = expect.objectContaining({ code: 'INVALID_ARGUMENT' });

describe('recovery targets', () => {
  it('parse times as µs or ISO 8601 with a zone, to the microsecond', () => {
    expect(parseTime('1700000000123456')).toBe(1_700_000_000_123_456);
    expect(parseTime('2023-11-14T22:13:20Z')).toBe(1_700_000_000_000_000);
    expect(parseTime('2023-11-14T22:13:20.123456Z')).toBe(1_700_000_000_123_456);
    expect(parseTime('2023-11-14T22:13:20.1Z')).toBe(1_700_000_000_100_000);
    expect(parseTime('2023-11-14T23:13:20.000007+01:00')).toBe(1_700_000_000_000_007);
    expect(parseTime('2023-11-14T22:13Z')).toBe(1_699_999_980_000_000);
    for (const bad of [
      '2023-11-14T22:13:20',
      '2023-11-14',
      'yesterday',
      '-5',
      '1.5',
      '2023-13-45T99:00:00Z',
    ]) {
      expect(() => parseTime(bad)).toThrow(invalid);
    }
  });

  it('parse the CLI forms checkpoint:N, lsn:N, time:N and ISO', () => {
    expect(parseTargetSpec('checkpoint:7')).toEqual({ checkpointId: 7 });
    expect(parseTargetSpec('lsn:0')).toEqual({ lsn: 0 });
    expect(parseTargetSpec('LSN:42')).toEqual({ lsn: 42 });
    expect(parseTargetSpec('time:1700000000000001')).toEqual({ time: 1_700_000_000_000_001 });
    expect(parseTargetSpec('2023-11-14T22:13:20Z')).toEqual({ time: 1_700_000_000_000_000 });
    for (const bad of ['checkpoint:0', 'lsn:-1', 'lsn:', 'block:3', '42', '']) {
      expect(() => parseTargetSpec(bad)).toThrow(invalid);
    }
  });

  it('parse component lists and the plan query', () => {
    expect(parseComponentList(' a, b ,a,')).toEqual(['a', 'b']);
    expect(() => parseComponentList(' , ')).toThrow(invalid);
    expect(() => parseComponentList('a/b')).toThrow(invalid);
    expect(parsePlanQuery({ checkpoint: '3', components: 'x' })).toEqual({
      target: { checkpointId: 3 },
      components: ['x'],
    });
    expect(parsePlanQuery({ time: '2023-11-14T22:13:20Z' })).toEqual({
      target: { time: 1_700_000_000_000_000 },
    });
    expect(() => parsePlanQuery({ lsn: ['1', '2'] })).toThrow(invalid);
    expect(() => parsePlanQuery({})).toThrow(invalid);
  });

  it('parse the POST body, defaulting to NDJSON, all components and the whole state at once', () => {
    expect(parseRecoverRequest({ target: { lsn: 5 } })).toEqual({
      target: { lsn: 5 },
      format: 'ndjson',
      stream: false,
    });
    expect(
      parseRecoverRequest({
        target: { time: '2023-11-14T22:13:20Z' },
        components: ['a', 'a'],
        format: 'binary',
        stream: true,
      }),
    ).toEqual({ target: { time: 1_700_000_000_000_000 }, components: ['a'], format: 'binary', stream: true });
    expect(() => parseRecoverRequest({ target: { lsn: 5 }, stream: 'yes' })).toThrow(invalid);
    expect(() => parseRecoverRequest(undefined)).toThrow(invalid);
    expect(() => parseRecoverRequest(Buffer.alloc(0))).toThrow(invalid);
  });
});

describe('ActiveRecoveries', () => {
  it('aborts the recoveries in flight on close, waits for them, and refuses new ones', async () => {
    const runs = new ActiveRecoveries();
    let seen: unknown;
    const running = runs.run(
      (signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => {
            seen = signal.reason;
            setTimeout(() => reject(signal.reason as Error), 20);
          }),
        ),
    );
    expect(runs.size).toBe(1);
    await runs.close();
    expect(runs.size).toBe(0);
    expect(TidemarkError.is(seen, 'CLOSED')).toBe(true);
    await expect(running).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(runs.run(async () => 1)).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('passes an outer abort (the client went away) to the task', async () => {
    const runs = new ActiveRecoveries();
    const outer = new AbortController();
    const running = runs.run(
      (signal) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
      outer.signal,
    );
    outer.abort(new TidemarkError('CLOSED', 'gone'));
    await expect(running).rejects.toMatchObject({ message: 'gone' });
  });
});

describe('the recovery configuration', () => {
  it('defaults to the engine defaults and reads every key from the environment', () => {
    expect(loadConfig({ env: {} }).recovery).toEqual(DEFAULT_RECOVERY_CONFIG);
    expect(
      loadConfig({
        env: {
          TIDEMARK_RECOVERY_THREADS: '4',
          TIDEMARK_RECOVERY_TIMEOUT_MS: '30000',
          TIDEMARK_RECOVERY_OPTIMISTIC: 'true',
          TIDEMARK_RECOVERY_PREFETCH: 'sequential',
          TIDEMARK_RECOVERY_FETCH_CONCURRENCY: '16',
          TIDEMARK_RECOVERY_VERIFICATION_LEVEL: 'full',
        },
      }).recovery,
    ).toEqual({
      maxParallelThreads: 4,
      recoveryTimeout: 30000,
      optimisticRecovery: true,
      prefetchStrategy: 'sequential',
      fetchConcurrency: 16,
      verificationLevel: 'full',
    });
  });

  it('refuses bad values, naming the variable', () => {
    for (const [name, value] of [
      ['TIDEMARK_RECOVERY_THREADS', '0'],
      ['TIDEMARK_RECOVERY_THREADS', '257'],
      ['TIDEMARK_RECOVERY_PREFETCH', 'eager'],
      ['TIDEMARK_RECOVERY_VERIFICATION_LEVEL', 'paranoid'],
    ]) {
      expect(() => loadConfig({ env: { [name!]: value } })).toThrow(new RegExp(name!));
    }
  });
});
