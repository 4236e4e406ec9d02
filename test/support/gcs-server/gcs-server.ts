import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerData } from './exchange';
import { FaultQueue, type Fault } from './faults';
import { badRequest, GcsHttpError } from './http-errors';
import { sendError } from './http-io';
import { MemoryBuckets } from './memory-buckets';
import { ResumableSessions } from './resumable';
import { REQUEST_KINDS, routeOf, type RequestKind } from './routes';

export type RequestCounts = Record<RequestKind, number>;

export interface GcsServerOptions {
  /** Port to listen on; default: a free one, chosen once and kept across stop/start. */
  port?: number;
}

/**
 * A GCS JSON API server in memory, for tests: what `@google-cloud/storage` 7.x calls to upload (media,
 * multipart, resumable), download (with ranges), read metadata, list, delete — with generations and enforced
 * preconditions. No authentication: every request is allowed.
 */
export interface GcsTestServer {
  /** `http://127.0.0.1:{port}`: pass as the client's `apiEndpoint`. */
  readonly endpoint: string;
  readonly port: number;
  /** Requests received by kind since the start or the last `resetRequests` (stop/start keeps counting). */
  readonly requests: Readonly<RequestCounts>;
  createBucket(name: string): void;
  /** Drops a bucket and its objects (no emptiness check: a test helper, not the API). */
  deleteBucket(name: string): void;
  /** Answers the next matching requests with an error status instead of serving them. */
  injectFault(fault: Fault): void;
  resetRequests(): void;
  /** Stops listening and cuts open connections; the data stays for `start`. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

export async function startGcsServer(options: GcsServerOptions = {}): Promise<GcsTestServer> {
  const server = new GcsServer(options.port ?? 0);
  await server.start();
  return server;
}

const HOST = '127.0.0.1';

class GcsServer implements GcsTestServer {
  readonly requests = countsOfZero();
  private readonly data: ServerData;
  private readonly faults = new FaultQueue();
  private server: Server | undefined;

  constructor(private listenPort: number) {
    const buckets = new MemoryBuckets();
    this.data = { buckets, sessions: new ResumableSessions(buckets) };
  }

  get port(): number {
    return this.listenPort;
  }

  get endpoint(): string {
    return `http://${HOST}:${this.listenPort}`;
  }

  createBucket(name: string): void {
    this.data.buckets.createBucket(name);
  }

  deleteBucket(name: string): void {
    this.data.buckets.deleteBucket(name);
  }

  injectFault(fault: Fault): void {
    this.faults.add(fault);
  }

  resetRequests(): void {
    Object.assign(this.requests, countsOfZero());
  }

  async start(): Promise<void> {
    if (this.server !== undefined) throw new Error('the GCS test server is already running');
    const server = createServer((req, res) => void this.dispatch(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.listenPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections(); // an outage: requests in flight are cut, not finished
    await closed;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.endpoint);
    const contentRange = req.headers['content-range'];
    try {
      const route = routeOf(req.method ?? 'GET', url, contentRange);
      this.requests[route.kind]++;
      const fault = this.faults.take(route.kind);
      if (fault !== undefined) {
        req.resume(); // drain what the client sends, so it reads the answer rather than a reset
        await new Promise((resolve) => req.once('end', resolve).once('close', resolve));
        throw fault;
      }
      await route.handle({
        req,
        res,
        url,
        bucket: route.bucket,
        object: route.object,
        baseUrl: this.endpoint,
        data: this.data,
      });
    } catch (error) {
      // The client may be gone (a cut upload): then there is no one to answer.
      if (!res.headersSent && res.socket?.destroyed === false) sendError(res, asGcsError(error));
      else res.destroy();
    }
  }
}

function asGcsError(error: unknown): GcsHttpError {
  if (error instanceof GcsHttpError) return error;
  if (error instanceof URIError) return badRequest(`Invalid percent-encoding in the path: ${error.message}`);
  return new GcsHttpError(500, 'internalError', `Test GCS server failed: ${String(error)}`);
}

function countsOfZero(): RequestCounts {
  return Object.fromEntries(REQUEST_KINDS.map((kind) => [kind, 0])) as RequestCounts;
}
