import { Writable } from 'node:stream';
import { loadConfig } from '../../../src/config';
import { createLogger } from '../../../src/node/create-logger';
import type { Logger } from '../../../src/lib/logger';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, lines };
}

describe('createLogger', () => {
  it('gives each module its own level (LOG_LEVEL for the rest)', () => {
    const config = loadConfig({ env: { LOG_LEVEL: 'info', LOG_LEVELS: 'wal=debug,http=warn' } });
    const { stream, lines } = capture();
    const loggers = createLogger(config, stream);
    const wal: Logger = loggers.child('wal');
    wal.debug({ lsn: 1 }, 'wal debug');
    loggers.child('http').info({}, 'http info');
    loggers.child('http').warn({}, 'http warn');
    loggers.child('checkpoint').debug({}, 'checkpoint debug');
    loggers.child('checkpoint').info({}, 'checkpoint info');
    loggers.root.debug('root debug');
    expect(lines().map((l) => [l.module, l.msg])).toEqual([
      ['wal', 'wal debug'],
      ['http', 'http warn'],
      ['checkpoint', 'checkpoint info'],
    ]);
    expect(lines()[0]).toMatchObject({ lsn: 1, name: 'tidemark' });
  });

  it('returns the same child for the same module', () => {
    const loggers = createLogger(loadConfig({ env: {} }), capture().stream);
    expect(loggers.child('wal')).toBe(loggers.child('wal'));
  });
});
