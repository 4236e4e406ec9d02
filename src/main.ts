import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from './app/create-app';
import { reportFatal } from './cli/report-fatal';
import { loadConfig, type LoadConfigOptions } from './config/config.loader';
import { createLogger } from './observability/create-logger';

/**
 * Starts the service: load and validate the configuration (a bad value throws CONFIG_INVALID naming the key),
 * open the WAL, listen on `server.host:server.port` (127.0.0.1:7070 by default). SIGTERM and SIGINT close the
 * app: the HTTP server stops, then the WAL closes cleanly.
 */
export async function startServer(options: LoadConfigOptions = {}): Promise<NestExpressApplication> {
  const config = loadConfig(options);
  const loggers = createLogger(config);
  const app = await createApp(config, loggers);
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const { host, port } = config.server;
  try {
    await app.listen(port, host);
  } catch (error) {
    await app.close();
    throw error;
  }
  loggers.root.info(
    { url: await app.getUrl(), dataDir: config.dataDir, walDir: config.wal.dir },
    'tidemark listening',
  );
  return app;
}

if (require.main === module) {
  startServer().catch(reportFatal);
}
