import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type request from 'supertest';
import { stringify } from 'yaml';
import { createApp } from '../../../src/server/create-app';
import { loadConfig, type TidemarkConfig } from '../../../src/config';

/**
 * The real app on a temporary data directory, with every background timer off or far away (periodic
 * checkpoints, chain clean-up, partial-pack uploads), so what the API shows changes only by requests.
 */
export interface TestApp {
  app: NestExpressApplication;
  config: TidemarkConfig;
  dataDir: string;
  close(): Promise<void>;
}

/** `file`: settings with no environment variable (written as the YAML configuration file). */
export async function startQuietApp(env: Record<string, string> = {}, file: object = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tidemark-http-'));
  const configFile = path.join(dataDir, 'tidemark.yaml');
  writeFileSync(configFile, stringify(file));
  const config = loadConfig({
    configFile,
    env: {
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      TIDEMARK_CHECKPOINT_INTERVAL_MS: '0',
      TIDEMARK_CHECKPOINT_CLEANUP_INTERVAL_MS: '0',
      TIDEMARK_UPLOAD_MAX_DELAY_MS: '3600000',
      TIDEMARK_WAL_PREALLOCATE: 'false',
      ...env,
    },
  });
  const app = await createApp(config);
  await app.init();
  return {
    app,
    config,
    dataDir,
    close: async () => {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A problem+json answer with the status and code, a title and detail, and no stack trace. */
export function expectProblem(res: request.Response, status: number, code: string): Record<string, unknown> {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body).toMatchObject({ type: `urn:tidemark:error:${code}`, status, code });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(typeof body.details).toBe('object');
  expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
  return body;
}

/** A realistic entry time: µs since the epoch, late 2023. */
export const T0_MICROS = 1_700_000_000_000_000;
