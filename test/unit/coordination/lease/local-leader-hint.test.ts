import { LocalLeaderHint } from '../../../../src/coordination/lease';
import { TidemarkError } from '../../../../src/lib/errors';
import { ManualClock } from '../../../support/manual-clock';

const TTL = 3_000;

describe('LocalLeaderHint', () => {
  let clock: ManualClock;
  let hint: LocalLeaderHint;

  beforeEach(() => {
    clock = new ManualClock(1_700_000_000_000);
    hint = new LocalLeaderHint({ clock });
  });

  it('reads nothing before the first publish', async () => {
    expect(await hint.read()).toBeUndefined();
  });

  it('stores a claim with its address and expiry', async () => {
    expect(await hint.publish({ term: 3, nodeId: 'n1', address: '10.0.0.1:7400' }, TTL)).toBe('stored');
    expect(await hint.read()).toEqual({
      term: 3,
      nodeId: 'n1',
      address: '10.0.0.1:7400',
      expiresAt: clock.now() + TTL,
    });
  });

  it('compare-and-set on the term: lower refused, same node renews, other node at the same term refused, higher replaces', async () => {
    expect(await hint.publish({ term: 5, nodeId: 'n1' }, TTL)).toBe('stored');
    expect(await hint.publish({ term: 4, nodeId: 'n2' }, TTL)).toBe('refused');
    expect(await hint.publish({ term: 4, nodeId: 'n1' }, TTL)).toBe('refused'); // its own older term too
    expect(await hint.publish({ term: 5, nodeId: 'n2' }, TTL)).toBe('refused');
    expect(await hint.read()).toMatchObject({ term: 5, nodeId: 'n1' });

    clock.advance(TTL - 1);
    expect(await hint.publish({ term: 5, nodeId: 'n1' }, TTL)).toBe('stored');
    expect((await hint.read())?.expiresAt).toBe(clock.now() + TTL);

    expect(await hint.publish({ term: 6, nodeId: 'n2', address: 'b:1' }, TTL)).toBe('stored');
    expect(await hint.read()).toEqual({
      term: 6,
      nodeId: 'n2',
      address: 'b:1',
      expiresAt: clock.now() + TTL,
    });
    expect(await hint.publish({ term: 5, nodeId: 'n1' }, TTL)).toBe('refused');
  });

  it('expires after its TTL, while the highest term still refuses a stale leader', async () => {
    await hint.publish({ term: 7, nodeId: 'n1' }, TTL);
    clock.advance(TTL - 1);
    expect(await hint.read()).toBeDefined();
    clock.advance(1);
    expect(await hint.read()).toBeUndefined();

    expect(await hint.publish({ term: 6, nodeId: 'n2' }, TTL)).toBe('refused');
    expect(await hint.publish({ term: 7, nodeId: 'n2' }, TTL)).toBe('refused');
    expect(await hint.read()).toBeUndefined();
    // The leader of term 7 may come back (it was only cut off from the store).
    expect(await hint.publish({ term: 7, nodeId: 'n1' }, TTL)).toBe('stored');
  });

  it('clear removes only the hint of that exact term and node, and keeps the highest term', async () => {
    await hint.publish({ term: 2, nodeId: 'n1' }, TTL);
    await hint.clear({ term: 2, nodeId: 'n2' });
    await hint.clear({ term: 1, nodeId: 'n1' });
    expect(await hint.read()).toMatchObject({ term: 2, nodeId: 'n1' });

    await hint.publish({ term: 3, nodeId: 'n2' }, TTL);
    await hint.clear({ term: 2, nodeId: 'n1' }); // the old leader stepping down late
    expect(await hint.read()).toMatchObject({ term: 3, nodeId: 'n2' });

    await hint.clear({ term: 3, nodeId: 'n2' });
    expect(await hint.read()).toBeUndefined();
    expect(await hint.publish({ term: 2, nodeId: 'n1' }, TTL)).toBe('refused');
  });

  it('refuses bad arguments with INVALID_ARGUMENT', async () => {
    const bad: Array<() => Promise<unknown>> = [
      () => hint.publish({ term: 0, nodeId: 'n1' }, TTL),
      () => hint.publish({ term: 1.5, nodeId: 'n1' }, TTL),
      () => hint.publish({ term: 1, nodeId: '' }, TTL),
      () => hint.publish({ term: 1, nodeId: 'x'.repeat(256) }, TTL),
      () => hint.publish({ term: 1, nodeId: 'bad\ud800' }, TTL),
      () => hint.publish({ term: 1, nodeId: 'n1', address: '' }, TTL),
      () => hint.publish({ term: 1, nodeId: 'n1' }, 0),
      () => hint.clear({ term: -1, nodeId: 'n1' }),
    ];
    for (const call of bad) {
      await expect(call()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    expect(await hint.publish({ term: 1, nodeId: 'é'.repeat(127) }, TTL)).toBe('stored'); // 254 bytes
  });

  it('refuses every call once closed', async () => {
    await hint.close();
    await expect(hint.read()).rejects.toBeInstanceOf(TidemarkError);
    await expect(hint.publish({ term: 1, nodeId: 'n1' }, TTL)).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(hint.clear({ term: 1, nodeId: 'n1' })).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
