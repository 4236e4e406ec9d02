import { checkKeyOrder } from '../../../src/checkpoint/state/key-order';

const record = (key: string) => ({ key: Buffer.from(key), value: Buffer.from('v'), lsn: 1, timestamp: 1 });

describe('checkKeyOrder', () => {
  it('accepts strictly rising keys (unsigned byte order), and no or one record', () => {
    expect(() => checkKeyOrder('c', [])).not.toThrow();
    expect(() => checkKeyOrder('c', [record('b')])).not.toThrow();
    expect(() =>
      checkKeyOrder('c', [record('a'), record('ab'), record('b'), record('\u00ff')]),
    ).not.toThrow();
  });

  it('refuses a repeated or falling key with INVALID_STATE_DATA naming the component and the record', () => {
    expect(() => checkKeyOrder('orders', [record('a'), record('a')])).toThrow(
      expect.objectContaining({ code: 'INVALID_STATE_DATA', details: { componentId: 'orders', index: 1 } }),
    );
    expect(() => checkKeyOrder('orders', [record('a'), record('c'), record('b')])).toThrow(
      /component orders: record 2 is not after record 1/,
    );
  });
});
