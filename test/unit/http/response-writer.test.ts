import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ResponseWriter } from '../../../src/server/recovery/response-writer';
import { eventually } from '../../support/eventually';
import { ManualClock } from '../../support/manual-clock';

/** A server whose one request's response is handed to the test, and the client's side of it. */
async function exchange(): Promise<{ res: ServerResponse; reply: IncomingMessage; close(): Promise<void> }> {
  let handed: ((res: ServerResponse) => void) | undefined;
  const responded = new Promise<ServerResponse>((resolve) => (handed = resolve));
  const server: Server = createServer((_req, res) => {
    res.writeHead(200);
    res.flushHeaders();
    handed!(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const reply = await new Promise<IncomingMessage>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/' }, resolve).on('error', reject).end();
  });
  const res = await responded;
  return {
    res,
    reply,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function collect(reply: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  reply.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => reply.on('end', () => resolve(Buffer.concat(chunks))));
}

describe('ResponseWriter', () => {
  it('writes every part in order, gathered, then the last one, and ends', async () => {
    const { res, reply, close } = await exchange();
    try {
      const body = collect(reply);
      const writer = new ResponseWriter(res);
      const parts = Array.from({ length: 5_000 }, (_, i) => `part ${i}\n`);
      for (const part of parts) await writer.write(part);
      await writer.end(Buffer.from('end\n'));
      expect((await body).toString()).toBe(`${parts.join('')}end\n`);
    } finally {
      await close();
    }
  });

  it('cuts off a client that takes nothing for a minute: the write waiting on it fails CLOSED', async () => {
    const { res, reply, close } = await exchange();
    try {
      reply.pause();
      const clock = new ManualClock();
      const writer = new ResponseWriter(res, clock);
      const part = Buffer.alloc(64 * 1024, 1);
      // Until a write has to wait for the socket to drain (the kernel's buffers full).
      let waiting: Promise<void> | undefined;
      for (let i = 0; i < 10_000 && waiting === undefined; i++) {
        const written = writer.write(part);
        const settled = await Promise.race([
          written.then(() => true),
          new Promise((r) => setTimeout(r, 20, false)),
        ]);
        if (!settled) waiting = written;
      }
      expect(waiting).toBeDefined();
      const outcome = waiting!.catch((error: unknown) => error);
      clock.advance(59_999);
      expect(res.destroyed).toBe(false);
      clock.advance(1);
      expect(await outcome).toMatchObject({ code: 'CLOSED', message: expect.stringMatching(/took nothing/) });
      expect(res.destroyed).toBe(true);
      await expect(writer.write('more')).rejects.toMatchObject({ code: 'CLOSED' });
    } finally {
      await close();
    }
  });

  it('writes nothing once ended or abandoned: a late part is refused, the end comes last', async () => {
    const { res, reply, close } = await exchange();
    try {
      const body = collect(reply);
      const writer = new ResponseWriter(res);
      await writer.write('first\n');
      const ending = writer.end('last\n');
      await expect(writer.write(Buffer.alloc(128 * 1024))).rejects.toMatchObject({ code: 'CLOSED' });
      await ending;
      expect((await body).toString()).toBe('first\nlast\n');

      const other = new ResponseWriter(res);
      other.abandon();
      await expect(other.write('x')).rejects.toMatchObject({ code: 'CLOSED' });
      await eventually('the response finished', () => res.writableFinished);
    } finally {
      await close();
    }
  });
});
