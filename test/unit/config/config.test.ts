import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../src/config';
import { TidemarkError } from '../../../src/lib/errors';
import { DEFAULT_CHECKPOINT_SYSTEM_CONFIG } from '../../../src/checkpoint/checkpoint-system-config';
import { DEFAULT_MERGER_CONFIG } from '../../../src/checkpoint/merge/merger-config';
import { DEFAULT_WAL_OPTIONS } from '../../../src/wal/wal-options';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tidemark-config-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function yamlFile(text: string): string {
  const file = path.join(dir, 'tidemark.yaml');
  writeFileSync(file, text);
  return file;
}

function configError(load: () => unknown): TidemarkError {
  try {
    load();
  } catch (error) {
    if (TidemarkError.is(error, 'CONFIG_INVALID')) return error;
    throw error;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('defaults', () => {
  it('give the embedded single-node mode with no file and no environment', () => {
    const config = loadConfig({ env: {} });
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 7070,
      bodyLimit: 256 * 1024 * 1024,
      shutdownTimeoutMs: 20_000,
    });
    expect(config.dataDir).toBe('./data');
    expect(config.wal.dir).toBe(path.join('./data', 'wal'));
    expect(config.log).toEqual({ level: 'info', modules: {} });
  });

  it('mirror the WAL defaults', () => {
    const { dir: _dir, ...wal } = loadConfig({ env: {} }).wal;
    const { canDelete: _canDelete, ...defaults } = DEFAULT_WAL_OPTIONS;
    expect(wal).toEqual(defaults);
  });

  it('put the WAL under the data directory unless wal.dir is set', () => {
    expect(loadConfig({ env: { DATA_DIR: '/srv/tm' } }).wal.dir).toBe('/srv/tm/wal');
    expect(loadConfig({ env: { DATA_DIR: '/srv/tm', TIDEMARK_WAL_DIR: '/fast/wal' } }).wal.dir).toBe(
      '/fast/wal',
    );
  });
});

describe('sources and precedence', () => {
  const yaml = [
    'server:',
    '  port: 8080',
    '  host: 0.0.0.0',
    'dataDir: /var/lib/tidemark',
    'wal:',
    '  segmentSize: 1048576',
    '  enableSync: false',
    'log:',
    '  level: warn',
    '  modules:',
    '    wal: debug',
    '',
  ].join('\n');

  it('reads the YAML file named by --config', () => {
    const config = loadConfig({ configFile: yamlFile(yaml), env: {} });
    expect(config.server.port).toBe(8080);
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.wal).toMatchObject({
      dir: '/var/lib/tidemark/wal',
      segmentSize: 1048576,
      enableSync: false,
    });
    expect(config.log).toEqual({ level: 'warn', modules: { wal: 'debug' } });
  });

  it('reads the YAML file named by TIDEMARK_CONFIG', () => {
    const config = loadConfig({ env: { TIDEMARK_CONFIG: yamlFile(yaml) } });
    expect(config.server.port).toBe(8080);
  });

  it('lets the --config flag win over TIDEMARK_CONFIG', () => {
    const other = path.join(dir, 'other.yaml');
    writeFileSync(other, 'server:\n  port: 9090\n');
    expect(loadConfig({ configFile: other, env: { TIDEMARK_CONFIG: yamlFile(yaml) } }).server.port).toBe(
      9090,
    );
  });

  it('lets environment variables override the file, key by key', () => {
    const config = loadConfig({
      configFile: yamlFile(yaml),
      env: { PORT: '9000', TIDEMARK_WAL_ENABLE_SYNC: 'true', LOG_LEVEL: 'debug', LOG_LEVELS: 'http=error' },
    });
    expect(config.server.port).toBe(9000);
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.wal.enableSync).toBe(true);
    expect(config.wal.segmentSize).toBe(1048576);
    expect(config.log).toEqual({ level: 'debug', modules: { wal: 'debug', http: 'error' } });
  });

  it('prefers TIDEMARK_PORT over PORT and TIDEMARK_DATA_DIR over DATA_DIR', () => {
    const config = loadConfig({
      env: { PORT: '1', TIDEMARK_PORT: '2', DATA_DIR: '/a', TIDEMARK_DATA_DIR: '/b' },
    });
    expect(config.server.port).toBe(2);
    expect(config.dataDir).toBe('/b');
  });

  it('maps every WAL option to an environment variable', () => {
    const config = loadConfig({
      env: {
        TIDEMARK_WAL_SEGMENT_SIZE: '4096',
        TIDEMARK_WAL_ENABLE_SYNC: 'off',
        TIDEMARK_WAL_BUFFER_SIZE: '8192',
        TIDEMARK_WAL_MAX_BATCH_SIZE: '10',
        TIDEMARK_WAL_RETENTION_SEGMENTS: '0',
        TIDEMARK_WAL_ENABLE_COMPRESSION: 'yes',
        TIDEMARK_WAL_COMPRESSION_THRESHOLD: '100',
        TIDEMARK_WAL_MAX_ENTRY_BYTES: '2048',
        TIDEMARK_WAL_ENFORCE_SEQUENCE: 'false',
        TIDEMARK_WAL_PREALLOCATE: '0',
        TIDEMARK_WAL_VALIDATE_TIMESTAMPS: 'false',
      },
    });
    expect(config.wal).toMatchObject({
      segmentSize: 4096,
      enableSync: false,
      bufferSize: 8192,
      maxBatchSize: 10,
      retentionSegments: 0,
      enableCompression: true,
      compressionThreshold: 100,
      maxEntryBytes: 2048,
      enforceSequence: false,
      preallocate: false,
      validateTimestamps: false,
    });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ env: { PORT: '', LOG_LEVEL: '  ' } }).server.port).toBe(7070);
  });
});

describe('validation', () => {
  it('repeats at most 128 characters of each key, file and message, and names ten issues and a count', () => {
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}${'x'.repeat(1000)}`);
    const error = configError(() =>
      loadConfig({ configFile: yamlFile(keys.map((k) => `${k}: 1`).join('\n')), env: {} }),
    );
    expect(error.message).toContain('… (1002 characters) (');
    expect(error.message).toMatch(/; and 2 more$/);
    expect(error.message.length).toBeLessThan(10 * 2 * 200 + 100);
    expect(error.details).toMatchObject({ count: 12 });
    expect((error.details.issues as unknown[]).length).toBe(10);
  });

  it('names the key and the variable of a number that is not a number', () => {
    const error = configError(() => loadConfig({ env: { TIDEMARK_WAL_SEGMENT_SIZE: 'abc' } }));
    expect(error.message).toContain(
      'wal.segmentSize (TIDEMARK_WAL_SEGMENT_SIZE): expected a positive integer',
    );
    expect(error.kind).toBe('invalid');
    expect(error.details).toEqual({
      issues: [
        {
          key: 'wal.segmentSize',
          source: 'TIDEMARK_WAL_SEGMENT_SIZE',
          message: 'expected a positive integer',
        },
      ],
    });
  });

  it.each([
    ['TIDEMARK_WAL_SEGMENT_SIZE', '0', 'wal.segmentSize'],
    ['TIDEMARK_WAL_SEGMENT_SIZE', '1.5', 'wal.segmentSize'],
    ['TIDEMARK_WAL_SEGMENT_SIZE', '12abc', 'wal.segmentSize'],
    ['PORT', '70000', 'server.port'],
    ['PORT', 'NaN', 'server.port'],
    ['TIDEMARK_WAL_ENABLE_SYNC', 'maybe', 'wal.enableSync'],
    ['LOG_LEVEL', 'loud', 'log.level'],
    ['LOG_LEVELS', 'wal=loud', 'log.modules.wal'],
    ['LOG_LEVELS', 'wal', 'log.modules'],
  ])('refuses %s=%s, naming %s', (name, value, key) => {
    const error = configError(() => loadConfig({ env: { [name]: value } }));
    expect(error.message).toContain(`${key} (${name}): `);
  });

  it('names the file for a bad value in the YAML file', () => {
    const file = yamlFile('wal:\n  maxBatchSize: -3\n');
    const error = configError(() => loadConfig({ configFile: file, env: {} }));
    expect(error.message).toContain(`wal.maxBatchSize (${file}): expected a positive integer`);
  });

  it('refuses unknown keys in the YAML file', () => {
    const file = yamlFile('wal:\n  segmentSzie: 10\nlisten: 1\n');
    const error = configError(() => loadConfig({ configFile: file, env: {} }));
    expect(error.message).toContain(`wal.segmentSzie (${file}): unknown key`);
    expect(error.message).toContain(`listen (${file}): unknown key`);
  });

  it('reports every bad key at once', () => {
    const error = configError(() => loadConfig({ env: { PORT: 'x', TIDEMARK_WAL_BUFFER_SIZE: 'y' } }));
    expect(error.details.issues).toHaveLength(2);
  });

  it('refuses a missing file, a YAML syntax error and a non-mapping document', () => {
    expect(
      configError(() => loadConfig({ configFile: path.join(dir, 'nope.yaml'), env: {} })).message,
    ).toContain('file not found');
    expect(() => loadConfig({ configFile: yamlFile('wal: [1, 2\n'), env: {} })).toThrow(TidemarkError);
    expect(configError(() => loadConfig({ configFile: yamlFile('- 1\n- 2\n'), env: {} })).message).toContain(
      'expected a mapping',
    );
  });

  it('accepts an empty YAML file', () => {
    expect(loadConfig({ configFile: yamlFile(''), env: {} }).server.port).toBe(7070);
  });
});

describe('LOG_LEVELS', () => {
  it('parses module=level pairs, tolerating spaces and a trailing comma', () => {
    const config = loadConfig({ env: { LOG_LEVELS: ' wal=debug , http = warn,' } });
    expect(config.log.modules).toEqual({ wal: 'debug', http: 'warn' });
  });

  it('keeps the root level for modules it does not name', () => {
    const config = loadConfig({ env: { LOG_LEVEL: 'error', LOG_LEVELS: 'wal=trace' } });
    expect(config.log).toEqual({ level: 'error', modules: { wal: 'trace' } });
  });
});

describe('storage', () => {
  it('defaults to a local directory store under the data directory', () => {
    expect(loadConfig({ env: {} }).storage).toEqual({
      backend: 'LocalFile',
      basePath: path.join('./data', 'store'),
      syncWrites: true,
      prefix: 'tidemark',
    });
    expect(loadConfig({ env: { DATA_DIR: '/srv/tm' } }).storage).toMatchObject({ basePath: '/srv/tm/store' });
  });

  it('maps every storage option to an environment variable', () => {
    const config = loadConfig({
      env: {
        TIDEMARK_STORAGE_BACKEND: 'LocalFile',
        TIDEMARK_STORAGE_PATH: '/mnt/objects',
        TIDEMARK_STORAGE_SYNC_WRITES: 'off',
        TIDEMARK_STORAGE_PREFIX: 'clusters/prod',
      },
    });
    expect(config.storage).toEqual({
      backend: 'LocalFile',
      basePath: '/mnt/objects',
      syncWrites: false,
      prefix: 'clusters/prod',
    });
  });

  it('selects the memory store, matching the backend name without regard to case', () => {
    expect(loadConfig({ env: { TIDEMARK_STORAGE_BACKEND: 'memory' } }).storage).toEqual({
      backend: 'Memory',
      prefix: 'tidemark',
    });
    const file = yamlFile('storage:\n  backend: Memory\n  prefix: t1\n');
    expect(loadConfig({ configFile: file, env: {} }).storage).toEqual({ backend: 'Memory', prefix: 't1' });
  });

  it('lets the environment override the backend chosen in the YAML file', () => {
    const file = yamlFile('storage:\n  backend: Memory\n');
    expect(
      loadConfig({ configFile: file, env: { TIDEMARK_STORAGE_BACKEND: 'LocalFile' } }).storage.backend,
    ).toBe('LocalFile');
  });

  it('names the variable of an unknown backend and lists the known ones', () => {
    const error = configError(() => loadConfig({ env: { TIDEMARK_STORAGE_BACKEND: 'Tape' } }));
    expect(error.message).toContain(
      'storage.backend (TIDEMARK_STORAGE_BACKEND): expected one of LocalFile, Memory, S3, Gcs, Azure',
    );
  });

  it('accepts the configuration docker-compose.yml runs Tidemark with (MinIO)', () => {
    const configFile = path.join(__dirname, '../../../infra/config/minio.yaml');
    const config = loadConfig({ configFile, env: { REDIS_URL: 'redis://redis:6379' } });
    expect(config.storage).toMatchObject({ backend: 'S3', bucket: 'tidemark', forcePathStyle: true });
    expect(config.tiering.redisUrl).toBe('redis://redis:6379');
  });

  it('reads the cloud backends from YAML, with their defaults', () => {
    const s3 = yamlFile(
      'storage:\n  backend: s3\n  bucket: tm\n  endpoint: http://minio:9000\n  forcePathStyle: true\n' +
        '  accessKeyId: minio\n  secretAccessKey: secret\n',
    );
    expect(loadConfig({ configFile: s3, env: {} }).storage).toMatchObject({
      backend: 'S3',
      bucket: 'tm',
      region: 'us-east-1',
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
      checksumMode: 'WHEN_SUPPORTED',
      createIfAbsent: 'native',
      partSize: 16 * 1024 * 1024,
      multipartThreshold: 64 * 1024 * 1024,
    });
    const gcs = yamlFile('storage:\n  backend: gcs\n  bucket: tm\n');
    expect(loadConfig({ configFile: gcs, env: {} }).storage).toMatchObject({ backend: 'Gcs', bucket: 'tm' });
    const azure = yamlFile(
      'storage:\n  backend: azure\n  container: tm\n  connectionString: UseDevelopmentStorage=true\n',
    );
    expect(loadConfig({ configFile: azure, env: {} }).storage).toMatchObject({
      backend: 'Azure',
      container: 'tm',
    });
  });

  it.each([
    ['S3 without a bucket', 'storage:\n  backend: S3\n', 'storage.bucket'],
    [
      'S3 with half its credentials',
      'storage:\n  backend: S3\n  bucket: b\n  accessKeyId: k\n',
      'accessKeyId and secretAccessKey',
    ],
    [
      'S3 with an endpoint that is no URL',
      'storage:\n  backend: S3\n  bucket: b\n  endpoint: minio\n',
      'http:// or https://',
    ],
    [
      'Azure with two credentials',
      'storage:\n  backend: Azure\n  container: c\n  connectionString: x\n  accountName: a\n  accountKey: k\n',
      'either connectionString',
    ],
    ['Azure with none', 'storage:\n  backend: Azure\n  container: c\n', 'either connectionString'],
    ['GCS with an S3 setting', 'storage:\n  backend: Gcs\n  bucket: b\n  region: eu\n', 'unknown key'],
  ])('refuses %s', (_what, yaml, message) => {
    const error = configError(() => loadConfig({ configFile: yamlFile(yaml), env: {} }));
    expect(error.message).toContain(message);
  });

  it('refuses LocalFile settings for the memory store, naming the variable that set them', () => {
    const error = configError(() =>
      loadConfig({ env: { TIDEMARK_STORAGE_BACKEND: 'Memory', TIDEMARK_STORAGE_PATH: '/x' } }),
    );
    expect(error.message).toContain('storage.basePath (TIDEMARK_STORAGE_PATH): unknown key');
  });

  it.each(['../up', '/abs', 'a//b', 'a\\b', '.hidden', 'a/'])('refuses the key prefix %j', (prefix) => {
    const error = configError(() => loadConfig({ env: { TIDEMARK_STORAGE_PREFIX: prefix } }));
    expect(error.message).toContain('storage.prefix (TIDEMARK_STORAGE_PREFIX): invalid key prefix');
  });

  it('refuses a syncWrites that is not a boolean', () => {
    const error = configError(() => loadConfig({ env: { TIDEMARK_STORAGE_SYNC_WRITES: 'sometimes' } }));
    expect(error.message).toContain('storage.syncWrites (TIDEMARK_STORAGE_SYNC_WRITES): expected a boolean');
  });
});

describe('checkpoint and merger settings', () => {
  it('default to the checkpoint system and merger defaults (the key prefix is storage.prefix)', () => {
    const config = loadConfig({ env: {} });
    const { prefix: _prefix, ...checkpoint } = DEFAULT_CHECKPOINT_SYSTEM_CONFIG;
    expect(config.checkpoint).toEqual(checkpoint);
    expect(config.merger).toEqual(DEFAULT_MERGER_CONFIG);
  });

  it('come from the environment', () => {
    const config = loadConfig({
      env: {
        TIDEMARK_CHECKPOINT_INTERVAL_MS: '0',
        TIDEMARK_CHECKPOINT_CODEC: 'lz4',
        TIDEMARK_NODE_ID: 'node-7',
        TIDEMARK_CHECKPOINT_DEDUPLICATION: 'off',
        TIDEMARK_MERGE_STRATEGY: 'sequential',
        TIDEMARK_MERGE_CONFLICT_RESOLUTION: 'timestamp-priority',
        TIDEMARK_MERGE_THREADS: '4',
      },
    });
    expect(config.checkpoint).toMatchObject({
      checkpointInterval: 0,
      codec: 'lz4',
      nodeId: 'node-7',
      enableDeduplication: false,
    });
    expect(config.merger).toMatchObject({
      mergeStrategy: 'sequential',
      conflictResolution: 'timestamp-priority',
      parallelThreads: 4,
    });
  });

  it('refuse an unknown codec, strategy or rule, naming the variable', () => {
    const error = configError(() =>
      loadConfig({
        env: {
          TIDEMARK_CHECKPOINT_CODEC: 'gzip',
          TIDEMARK_MERGE_STRATEGY: 'fastest',
          TIDEMARK_MERGE_CONFLICT_RESOLUTION: 'random',
          TIDEMARK_MERGE_THREADS: '0',
        },
      }),
    );
    expect(error.message).toContain(
      'checkpoint.codec (TIDEMARK_CHECKPOINT_CODEC): expected one of zstd, lz4, snappy, none',
    );
    expect(error.message).toContain('merger.mergeStrategy (TIDEMARK_MERGE_STRATEGY): expected one of');
    expect(error.message).toContain('merger.conflictResolution (TIDEMARK_MERGE_CONFLICT_RESOLUTION)');
    expect(error.message).toContain('merger.parallelThreads (TIDEMARK_MERGE_THREADS)');
  });

  it('refuse an unknown key in the YAML file', () => {
    const file = yamlFile('checkpoint:\n  interval: 5\n');
    expect(configError(() => loadConfig({ configFile: file, env: {} })).message).toContain('checkpoint');
  });
});
