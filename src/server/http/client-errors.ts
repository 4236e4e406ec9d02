import { type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { problem } from './problem.filter';

/** What Node's parser refused, by its error code (as Node's own default answers); anything else is 400. */
const REFUSALS: Readonly<Record<string, { status: number; detail: string }>> = {
  HPE_HEADER_OVERFLOW: { status: 431, detail: 'the request line and headers are over the 16 KiB limit' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, detail: 'chunk extensions over the limit' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, detail: 'the request was not received in time' },
};

/**
 * Requests Node's HTTP parser refuses before Express sees them (headers over 16 KiB, a malformed request
 * line or header, a request too slow to arrive) get a problem+json answer like every other error, instead
 * of Node's bare status line. As Node does, nothing is written once a response on the socket has begun.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (error.code !== 'ECONNRESET' && socket.writable && inFlight?.headersSent !== true) {
      const { status, detail } = REFUSALS[error.code ?? ''] ?? {
        status: 400,
        detail: 'malformed HTTP request',
      };
      const reason = error.code === undefined ? {} : { reason: error.code };
      const body = JSON.stringify(problem('INVALID_ARGUMENT', status, detail, reason));
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
          'Content-Type: application/problem+json; charset=utf-8\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  });
}
