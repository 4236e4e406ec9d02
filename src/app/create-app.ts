import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from '../app.module';
import type { TidemarkConfig } from '../config/config.schema';
import { createLogger, type ModuleLoggers } from '../observability/create-logger';

/**
 * Builds the Nest application from a loaded configuration (not yet listening): the server and the HTTP
 * tests share it. Bodies: JSON and `application/octet-stream` (raw Buffer), both up to `server.bodyLimit`.
 */
export async function createApp(
  config: TidemarkConfig,
  loggers: ModuleLoggers = createLogger(config),
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, loggers), {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.useBodyParser('json', { limit: config.server.bodyLimit });
  app.useBodyParser('raw', { type: 'application/octet-stream', limit: config.server.bodyLimit });
  return app;
}
