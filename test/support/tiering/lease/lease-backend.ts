import { TidemarkError, type ErrorCode } from '../../../../src/lib/errors';
import type { LeaseProvider } from '../../../../src/tiering/lease';

/**
 * What the lease contracts run against: Redis (real time, a real server) or the local provider (a fake
 * clock). Tests never measure time; they let time pass through `sleep` and poll with `eventually`.
 */
export interface LeaseBackend {
  /** Another provider on the same backend, as another node would have (torn down with the backend). */
  connect(): LeaseProvider;
  /** Lets `ms` pass: a real pause against Redis, a clock move for the fake clock. */
  sleep(ms: number): Promise<void>;
  teardown(): Promise<void>;
}

export interface KeeperBackend extends LeaseBackend {
  /** Makes the backend unreachable (COORDINATION_UNAVAILABLE), and reachable again: Redis comes back empty. */
  outage: { begin(): Promise<void>; end(): Promise<void> };
}

/** Polls `condition` until it holds, letting backend time pass between tries; fails after a generous while. */
export async function eventually(
  backend: Pick<LeaseBackend, 'sleep'>,
  condition: () => boolean | Promise<boolean>,
  what: string,
  withinMs = 30_000,
): Promise<void> {
  const stepMs = 10;
  for (let waited = 0; ; waited += stepMs) {
    if (await condition()) return;
    if (waited >= withinMs) throw new Error(`gave up waiting for: ${what}`);
    await backend.sleep(stepMs);
  }
}

export async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<TidemarkError> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof TidemarkError)) throw error;
    expect(error.code).toBe(code);
    return error;
  }
  throw new Error(`expected ${code}, but it succeeded`);
}

export function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`expected ${what}`);
  return value;
}
