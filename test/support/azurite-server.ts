import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { ChildServer } from './child-server';

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/**
 * A real azurite blob service of the test's own (the npm package), as a child process on a port it chose, so a
 * test can stop it (Azure down) and start it again on the same port. Its data lives in a temporary directory
 * rather than in memory, so it survives a restart: `stop` sends SIGTERM, on which azurite saves its metadata
 * (a SIGKILL could lose the last few seconds of it).
 */
export interface TestAzurite {
  port: number;
  /** `http://127.0.0.1:{port}/devstoreaccount1` */
  endpoint: string;
  connectionString: string;
  accountName: string;
  accountKey: string;
  /** Creates a container (a fresh name when none is given) and returns its name. */
  createContainer(name?: string): Promise<string>;
  deleteContainer(name: string): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

// The all-in-one `azurite`, not `azurite-blob`: 3.35's azurite-blob ignores --blobKeepAliveTimeout (it reads
// a flag of another name). Its queue and table services idle on ports of their own choosing.
const AZURITE = path.join(path.dirname(require.resolve('azurite/package.json')), 'dist/src/azurite.js');

function azuriteProcess(port: number, location: string): ChildServer {
  return new ChildServer({
    command: process.execPath,
    args: [
      AZURITE,
      ...['--blobHost', '127.0.0.1', '--blobPort', String(port), '--queuePort', '0', '--tablePort', '0'],
      ...['--location', location],
      // --skipApiVersionCheck: the current SDK speaks a newer API version than azurite 3.35 knows.
      ...['--silent', '--skipApiVersionCheck', '--loose', '--disableTelemetry'],
      // Node's HTTP client keeps idle connections without a time limit; azurite closes them after 5 s by
      // default, and a request that reuses one just then dies with ECONNRESET. The store tries each request
      // once (retrying is RetryingStore's job), so tests of the bare store would fail at random. Real Azure
      // keeps idle connections for minutes; so does this server.
      ...['--blobKeepAliveTimeout', '600'],
    ],
    // Printed even with --silent (which only mutes the access log).
    ready: /Blob service is successfully listening at http:\/\/[^\s:]+:(\d+)/,
  });
}

let containers = 0;

export async function startAzurite(): Promise<TestAzurite> {
  const location = mkdtempSync(path.join(tmpdir(), 'tidemark-azurite-'));
  let server = azuriteProcess(0, location);
  const port = Number(await server.start());
  const endpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
    `BlobEndpoint=${endpoint};`;
  const service = BlobServiceClient.fromConnectionString(connectionString);
  return {
    port,
    endpoint,
    connectionString,
    accountName: AZURITE_ACCOUNT,
    accountKey: AZURITE_KEY,
    createContainer: async (name = `t${process.pid}-${++containers}-${Date.now().toString(36)}`) => {
      await service.getContainerClient(name).create();
      return name;
    },
    deleteContainer: async (name) => {
      await service.getContainerClient(name).deleteIfExists();
    },
    start: async () => {
      if (server.running) return;
      server = azuriteProcess(port, location); // the same port, so clients keep their endpoint
      await server.start();
    },
    stop: () => server.stop(),
    dispose: async () => {
      await server.stop();
      rmSync(location, { recursive: true, force: true });
    },
  };
}
