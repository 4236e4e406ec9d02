import { SerialQueue } from '../../../src/lib/serial-queue';

/** A promise settled from outside. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('SerialQueue', () => {
  it('runs tasks one at a time, in the order they were handed in', async () => {
    const queue = new SerialQueue();
    const events: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const results = gates.map((gate, i) =>
      queue.run(async () => {
        events.push(`start ${i}`);
        await gate.promise;
        events.push(`end ${i}`);
        return i;
      }),
    );
    await flush();
    expect(events).toEqual(['start 0']);
    gates[2]!.resolve(); // the last one is ready first: it still waits its turn
    gates[1]!.resolve();
    await flush();
    expect(events).toEqual(['start 0']);
    gates[0]!.resolve();
    expect(await Promise.all(results)).toEqual([0, 1, 2]);
    expect(events).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('passes a failure to its caller only: the next task runs all the same', async () => {
    const queue = new SerialQueue();
    const failing = queue.run(async () => {
      throw new Error('boom');
    });
    const throwingAtOnce = queue.run((() => {
      throw new Error('sync boom');
    }) as () => Promise<never>);
    const next = queue.run(async () => 'next');
    await expect(failing).rejects.toThrow('boom');
    await expect(throwingAtOnce).rejects.toThrow('sync boom');
    await expect(next).resolves.toBe('next');
  });

  it('idle() waits for the tasks handed in so far, failed ones included, and never rejects', async () => {
    const queue = new SerialQueue();
    await expect(queue.idle()).resolves.toBeUndefined();
    const gate = deferred();
    const first = queue.run(() => gate.promise.then(() => Promise.reject(new Error('late failure'))));
    first.catch(() => undefined);
    let idle = false;
    const waiting = queue.idle().then(() => (idle = true));
    await flush();
    expect(idle).toBe(false);
    gate.resolve();
    await waiting;
    expect(idle).toBe(true);

    const later = deferred();
    const running = queue.run(() => later.promise);
    const before = queue.idle();
    queue.run(async () => undefined); // handed in after idle(): not waited for by `before`
    later.resolve();
    await running;
    await expect(before).resolves.toBeUndefined();
  });
});
