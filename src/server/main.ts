import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from './create-app';
import { shutDownOnSignals } from './shutdown-on-signals';
import { loadConfig, type LoadConfigOptions } from '../config/config.loader';
import { settleWithin } from '../lib/settle-within';
import { createLogger } from '../node/create-logger';
import { SegmentedWal } from '../wal';

/**
 * Starts the service: load and validate the configuration (a bad value throws CONFIG_INVALID naming the key),
 * open the WAL, listen on `server.host:server.port` (127.0.0.1:7070 by default). SIGTERM and SIGINT close the
 * app within `server.shutdownTimeoutMs` (server/shutdown-on-signals.ts): the HTTP server stops, then the WAL
 * closes cleanly.
 */
export async function startServer(options: LoadConfigOptions = {}): Promise<NestExpressApplication> {
  const config = loadConfig(options);
  const loggers = createLogger(config);
  const app = await createApp(config, loggers);
  const { host, port, shutdownTimeoutMs } = config.server;
  try {
    await app.listen(port, host);
  } catch (error) {
    // Nothing may keep a failed start alive (Redis down, say): the WAL's lock is released either way.
    if ((await settleWithin(app.close(), shutdownTimeoutMs)) === 'timed-out') {
      await settleWithin(app.get(SegmentedWal).close(), shutdownTimeoutMs);
    }
    throw error;
  }
  shutDownOnSignals(app, shutdownTimeoutMs, loggers.root);
  loggers.root.info(
    { url: await app.getUrl(), dataDir: config.dataDir, walDir: config.wal.dir },
    'tidemark listening',
  );
  return app;
}
