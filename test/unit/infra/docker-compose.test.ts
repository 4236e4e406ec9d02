/**
 * docker-compose.yml cannot be run here (no Docker engine), so its promises are checked on the file: it
 * parses, pins every image, publishes nothing but the API and that on loopback only, takes every credential
 * from .env (refusing to start without it), and configures Tidemark so that the configuration loads.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../../src/config';

const ROOT = path.resolve(__dirname, '../../..');

interface Service {
  image?: string;
  build?: unknown;
  ports?: (string | { host_ip?: string; published?: string | number; target: number })[];
  environment?: Record<string, string> | string[];
  command?: string | string[];
  entrypoint?: string | string[];
}

const text = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
// `<<: *anchor` merge keys, as compose reads them.
const compose = parse(text, { merge: true }) as { services: Record<string, Service> };
const services = Object.entries(compose.services);
/** The three Tidemark nodes; deployment-files.test.ts checks how they refer to each other. */
const NODES = ['tidemark-1', 'tidemark-2', 'tidemark-3'];

/** What .env.example sets: the variables a user has to provide. */
const example = Object.fromEntries(
  readFileSync(path.join(ROOT, '.env.example'), 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);

/** Compose's interpolation, for the forms this file uses: `${VAR:?message}`, `${VAR}`, and `$$` for `$`. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value
    .replace(/\$\{([A-Z_][A-Z0-9_]*)(?::\?[^}]*)?\}/g, (_, name: string) => {
      if (!vars[name]) throw new Error(`${name} is not set`);
      return vars[name];
    })
    .replace(/\$\$/g, '$');
}

function environment(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) return env;
  return Object.fromEntries(env.map((pair) => [pair.split('=')[0]!, pair.slice(pair.indexOf('=') + 1)]));
}

describe('docker-compose.yml', () => {
  it('parses and runs three Tidemark nodes, Redis, MinIO and the bucket set-up', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['minio', 'minio-init', 'redis', ...NODES]);
  });

  it.each(services.filter(([, s]) => s.image !== undefined))('pins the image of %s to a version', (_, s) => {
    const image = s.image!;
    const tag = image.slice(image.lastIndexOf('/') + 1).split(':')[1];
    expect(tag).toBeDefined(); // untagged means :latest
    expect(tag).not.toBe('latest');
    expect(tag).toMatch(/\d+[.-]\d+/); // a version or a release date, not a moving name like `7-alpine`
  });

  it('builds the only services without an image, the Tidemark nodes, from the repository', () => {
    expect(services.filter(([, s]) => s.image === undefined).map(([name]) => name)).toEqual(NODES);
    for (const node of NODES)
      expect(compose.services[node]!.build).toMatchObject({ dockerfile: 'infra/Dockerfile' });
  });

  it('publishes no Redis or MinIO port', () => {
    for (const name of ['redis', 'minio', 'minio-init'])
      expect(compose.services[name]!.ports).toBeUndefined();
  });

  it('publishes the APIs on the loopback interface only', () => {
    const published = services.flatMap(([, s]) => s.ports ?? []);
    expect(published).toEqual(['127.0.0.1:7071:7070', '127.0.0.1:7072:7070', '127.0.0.1:7073:7070']);
    for (const port of published) {
      if (typeof port === 'string') expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      else expect(port.host_ip).toBe('127.0.0.1');
    }
  });

  it('takes every credential from .env and refuses to start without it', () => {
    expect(text).not.toMatch(/tidemark-secret|minioadmin/);
    const secret = /PASSWORD|SECRET|ACCESS_KEY|_USER$|AUTH|REDIS_URL/;
    for (const [name, service] of services) {
      for (const [key, value] of Object.entries(environment(service))) {
        if (secret.test(key))
          expect({ name, key, value }).toEqual({ name, key, value: expect.stringMatching(/\$\{[A-Z_]+:\?/) });
      }
    }
    const redis = compose.services.redis!.command as string[];
    expect(redis[redis.indexOf('--requirepass') + 1]).toMatch(/^\$\{REDIS_PASSWORD:\?.+\}$/);
    for (const node of NODES)
      expect(environment(compose.services[node]!).REDIS_URL).toMatch(
        /^redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379$/,
      );

    // Every variable the file needs is required (`:?`) and named in .env.example.
    const used = [...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)([^}]*)\}/g)];
    expect(used.length).toBeGreaterThan(0);
    for (const [, name, rest] of used) {
      expect({ name, required: rest!.startsWith(':?') }).toEqual({ name, required: true });
      expect(Object.keys(example)).toContain(name);
    }
    expect(() => interpolate(text, {})).toThrow(/is not set/);
  });

  it('keeps .env out of git and out of the image', () => {
    for (const file of ['.gitignore', '.dockerignore']) {
      expect(readFileSync(path.join(ROOT, file), 'utf8').split('\n')).toContain('.env');
    }
  });

  it.each(NODES)(
    'configures %s so that its configuration loads (MinIO store, Redis with its password)',
    (node) => {
      const env = Object.fromEntries(
        Object.entries(environment(compose.services[node]!)).map(([key, value]) => [
          key,
          interpolate(value, example),
        ]),
      );
      expect(env.TIDEMARK_CONFIG).toBe('/etc/tidemark/minio.yaml'); // the file mounted from infra/config
      const config = loadConfig({ configFile: path.join(ROOT, 'infra/config/minio.yaml'), env });
      expect(config.storage).toMatchObject({
        backend: 'S3',
        bucket: 'tidemark',
        endpoint: 'http://minio:9000',
        forcePathStyle: true,
      });
      expect(config.tiering.redisUrl).toBe(`redis://:${example.REDIS_PASSWORD}@redis:6379`);
      expect(config.server).toMatchObject({ host: '0.0.0.0', port: 7070 });
      expect(config.dataDir).toBe('/data');
      // The bucket minio-init creates is the one Tidemark writes to.
      expect((compose.services['minio-init']!.entrypoint as string[]).join(' ')).toContain(
        'mc mb --ignore-existing local/tidemark',
      );
    },
  );
});
