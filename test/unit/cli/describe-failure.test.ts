import { runInNewContext } from 'node:vm';
import { describeFailure, MESSAGE_LIMIT } from '../../../src/cli/describe-failure';
import { TidemarkError } from '../../../src/lib/errors';

/** The one line a failure is told in, whatever the error. */

describe('describeFailure', () => {
  it("names Node's errors from another realm too (a vm context, as under jest), not as INTERNAL", () => {
    const foreign: unknown = runInNewContext(
      'Object.assign(new Error("ENAMETOOLONG: name too long"), { code: "ENAMETOOLONG", syscall: "open", path: "/x" })',
    );
    expect(foreign instanceof Error).toBe(false);
    expect(describeFailure(foreign)).toEqual({
      text: 'tidemark: IO_ERROR: open /x: ENAMETOOLONG\n',
      exitCode: 1,
    });
  });

  it('keeps a message on one line and cuts one longer than MESSAGE_LIMIT', () => {
    const multiLine = new TidemarkError(
      'INVALID_ARGUMENT',
      'bad YAML at line 1:\n\n  a: b: c\n     ^\n\u001b[31m',
    );
    expect(describeFailure(multiLine).text).toBe(
      'tidemark: INVALID_ARGUMENT: bad YAML at line 1: a: b: c ^ \\u001b[31m\n',
    );
    const long = describeFailure(new TidemarkError('IO_ERROR', 'x'.repeat(10_000))).text;
    expect(long).toBe(`tidemark: IO_ERROR: ${'x'.repeat(MESSAGE_LIMIT)}… (10000 characters)\n`);
  });

  it('cuts the path of a Node error at ECHO_LIMIT characters', () => {
    const error = Object.assign(new Error('ENOSPC'), {
      code: 'ENOSPC',
      syscall: 'write',
      path: `/${'d'.repeat(500)}`,
    });
    expect(describeFailure(error).text).toBe(
      `tidemark: DISK_FULL: /${'d'.repeat(127)}… (501 characters): no space left on the device\n`,
    );
  });
});
