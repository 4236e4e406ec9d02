import { loadConfig } from '../../../src/config';
import { TidemarkError } from '../../../src/lib/errors';

/** The coordinator's settings (cluster.*), from the environment as an operator gives them. */
function load(env: Record<string, string>) {
  return loadConfig({ env });
}

function refusal(env: Record<string, string>): string {
  try {
    load(env);
  } catch (error) {
    if (TidemarkError.is(error, 'CONFIG_INVALID')) return error.message;
    throw error;
  }
  throw new Error('expected CONFIG_INVALID');
}

const SECRET = 'sixteen-chars-at-least';

describe('cluster settings', () => {
  it('default to the embedded mode: no endpoints, etcd-like timings', () => {
    expect(load({}).cluster).toEqual({
      endpoints: [],
      join: false,
      electionTimeoutMs: 1000,
      heartbeatIntervalMs: 100,
      partitionToleranceMs: 10000,
      snapshotEvery: 10000,
      leaderHintTtlMs: 5000,
      testFaults: false,
      checkpoints: {
        intervalMs: 60000,
        timeoutMs: 600000,
        minPauseMs: 0,
        maxConcurrent: 1,
        tolerableFailures: 0,
        retained: 3,
      },
    });
  });

  it("read the cluster checkpoints' knobs from the environment, and refuse nonsense", () => {
    const { cluster } = load({
      TIDEMARK_CLUSTER_CHECKPOINT_INTERVAL_MS: '0',
      TIDEMARK_CLUSTER_CHECKPOINT_TIMEOUT_MS: '5000',
      TIDEMARK_CLUSTER_CHECKPOINT_MIN_PAUSE_MS: '250',
      TIDEMARK_CLUSTER_CHECKPOINT_MAX_CONCURRENT: '2',
      TIDEMARK_CLUSTER_CHECKPOINT_TOLERABLE_FAILURES: '3',
      TIDEMARK_CLUSTER_CHECKPOINTS_RETAINED: '5',
    });
    expect(cluster.checkpoints).toEqual({
      intervalMs: 0,
      timeoutMs: 5000,
      minPauseMs: 250,
      maxConcurrent: 2,
      tolerableFailures: 3,
      retained: 5,
    });
    expect(() => load({ TIDEMARK_CLUSTER_CHECKPOINT_MAX_CONCURRENT: '0' })).toThrow(
      /cluster\.checkpoints\.maxConcurrent/,
    );
  });

  it('read endpoints as "id=host:port" or "id=http://host:port", separated by commas', () => {
    const { cluster } = load({
      TIDEMARK_NODE_ID: 'n1',
      TIDEMARK_CLUSTER_ENDPOINTS: 'n1=127.0.0.1:7401, n2=http://node2:7402/ ,n3=[::1]:7403',
      TIDEMARK_CLUSTER_SECRET: SECRET,
      TIDEMARK_ELECTION_TIMEOUT_MS: '500',
      TIDEMARK_HEARTBEAT_INTERVAL_MS: '50',
    });
    expect(cluster.endpoints).toEqual([
      { id: 'n1', address: '127.0.0.1:7401' },
      { id: 'n2', address: 'node2:7402' },
      { id: 'n3', address: '[::1]:7403' },
    ]);
    expect(cluster.electionTimeoutMs).toBe(500);
  });

  it.each([
    [{ TIDEMARK_CLUSTER_ENDPOINTS: 'n1=127.0.0.1' }, /cluster\.endpoints.*id=host:port/],
    [{ TIDEMARK_CLUSTER_ENDPOINTS: '=127.0.0.1:1' }, /cluster\.endpoints/],
    [{ TIDEMARK_CLUSTER_ENDPOINTS: 'node-1=127.0.0.1:1,n2=h:2' }, /cluster\.secret.*needs a secret/],
    [
      { TIDEMARK_CLUSTER_ENDPOINTS: 'node-1=h:1,node-1=h:2', TIDEMARK_CLUSTER_SECRET: SECRET },
      /listed twice/,
    ],
    [
      { TIDEMARK_CLUSTER_ENDPOINTS: 'n1=h:1,n2=h:2', TIDEMARK_CLUSTER_SECRET: SECRET },
      /node-1.*is not among the endpoints/,
    ],
    [{ TIDEMARK_CLUSTER_SECRET: 'short' }, /cluster\.secret.*16/],
    [
      { TIDEMARK_ELECTION_TIMEOUT_MS: '150', TIDEMARK_HEARTBEAT_INTERVAL_MS: '100' },
      /twice heartbeatIntervalMs/,
    ],
    [{ TIDEMARK_CLUSTER_JOIN: 'true' }, /needs a secret/],
  ])('refuse %j', (env, message) => {
    expect(refusal(env)).toMatch(message);
  });
});
