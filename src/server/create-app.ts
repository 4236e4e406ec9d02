import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import type { TidemarkConfig } from '../config/config.schema';
import { createLogger, type ModuleLoggers } from '../node/create-logger';
import { answerClientErrors } from './http/client-errors';
import { BINARY_MEDIA_TYPE, JSON_MEDIA_TYPE, mediaTypeOf } from './http/media-type';
import { nestLogBridge } from './http/nest-log-bridge';

/**
 * Builds the Nest application from a loaded configuration (not yet listening): the server and the HTTP
 * tests share it. Bodies: JSON and `application/octet-stream` (raw Buffer), both up to `server.bodyLimit`;
 * any other type is left unread, for the route to refuse (415) if it is sent a body at all.
 */
export async function createApp(
  config: TidemarkConfig,
  loggers: ModuleLoggers = createLogger(config),
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, loggers), {
    bodyParser: false,
    logger: nestLogBridge(loggers.child('http')),
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  const limit = config.server.bodyLimit;
  app.useBodyParser('json', { limit, type: (req) => mediaTypeOf(req) === JSON_MEDIA_TYPE });
  app.useBodyParser('raw', { limit, type: (req) => mediaTypeOf(req) === BINARY_MEDIA_TYPE });
  answerClientErrors(app.getHttpServer());
  return app;
}
