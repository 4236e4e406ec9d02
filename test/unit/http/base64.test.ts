import fc from 'fast-check';
import { isBase64 } from '../../../src/server/http/base64';

/** The reference: the regular expression the linear scan replaced (fine on short strings). */
const REFERENCE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

describe('isBase64', () => {
  it('accepts whatever Buffer encodes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(isBase64(Buffer.from(bytes).toString('base64'))).toBe(true);
      }),
    );
  });

  it('agrees with the regular expression on short strings near base64', () => {
    const char = fc.constantFrom(...'AZaz09+/=-_ !é'.split(''));
    fc.assert(
      fc.property(
        fc.array(char, { maxLength: 12 }).map((chars) => chars.join('')),
        (text) => {
          expect(isBase64(text)).toBe(REFERENCE.test(text));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('scans 32 MiB without overflowing the stack', () => {
    const text = 'QUJD'.repeat(8 * 1024 * 1024);
    expect(isBase64(text)).toBe(true);
    expect(isBase64(`${text.slice(0, -1)}!`)).toBe(false);
  });
});
