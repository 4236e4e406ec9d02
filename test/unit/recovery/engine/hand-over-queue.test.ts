import type { SlicedComponent } from '../../../../src/checkpoint/run/sliced-component';
import { HandOverQueue } from '../../../../src/recovery/hand-over-queue';

const component = (id: string) => ({ componentId: id }) as SlicedComponent;

/** A hand-over that waits until the test releases it. */
function gatedDeliveries() {
  const delivered: string[] = [];
  const releases: (() => void)[] = [];
  const deliver = (c: SlicedComponent) =>
    new Promise<void>((resolve) => {
      delivered.push(c.componentId);
      releases.push(resolve);
    });
  const releaseNext = async () => {
    releases.shift()!();
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { delivered, deliver, releaseNext };
}

describe('HandOverQueue', () => {
  it('hands over one at a time, in order; the gate closes with two waiting and opens as they drain', async () => {
    const { delivered, deliver, releaseNext } = gatedDeliveries();
    const queue = new HandOverQueue(deliver, new AbortController().signal, 2);
    queue.push(component('a'));
    expect(queue.gate()).toBeUndefined();
    queue.push(component('b'));
    const closed = queue.gate();
    expect(closed).toBeInstanceOf(Promise);
    await Promise.resolve();
    await Promise.resolve();
    expect(delivered).toEqual(['a']);
    let opened = false;
    void closed!.then(() => (opened = true));
    await releaseNext();
    expect(opened).toBe(true);
    expect(delivered).toEqual(['a', 'b']);
    expect(queue.gate()).toBeUndefined();
    await releaseNext();
    await queue.drain();
  });

  it('after a failed hand-over: later ones are dropped, the gate rejects with its error, drain throws it', async () => {
    const delivered: string[] = [];
    const queue = new HandOverQueue(
      (c) => {
        delivered.push(c.componentId);
        if (c.componentId === 'a') return Promise.reject(new Error('disk full'));
        return undefined;
      },
      new AbortController().signal,
      2,
    );
    queue.push(component('a'));
    queue.push(component('b'));
    await expect(queue.drain()).rejects.toThrow('disk full');
    expect(delivered).toEqual(['a']);
    expect(queue.ended).toBe(true);
    await expect(queue.gate()).rejects.toThrow('disk full');
    queue.push(component('c'));
    await expect(queue.drain()).rejects.toThrow('disk full');
    expect(delivered).toEqual(['a']);
  });

  it('stop() lets the hand-over in flight finish and drops those not begun', async () => {
    const { delivered, deliver, releaseNext } = gatedDeliveries();
    const queue = new HandOverQueue(deliver, new AbortController().signal, 5);
    queue.push(component('a'));
    queue.push(component('b'));
    await Promise.resolve();
    await Promise.resolve();
    let stopped = false;
    const stopping = queue.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    await releaseNext();
    await stopping;
    expect(delivered).toEqual(['a']);
  });
});
