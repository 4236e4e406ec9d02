import { z } from 'zod';
import { bool, nonEmptyString, nonNegativeInt, positiveInt } from './schema-primitives';

/**
 * The Raft coordinator's settings, after the reference's DistributedConfig (node_id, cluster_endpoints,
 * election_timeout, heartbeat_interval, partition_tolerance) plus the cluster secret. The node's id is
 * `checkpoint.nodeId` (one identity per node). No endpoints: the embedded mode, a one-voter cluster of
 * this node alone, with no network at all.
 */
const ENDPOINT = 'expected "id=host:port" (or "id=http://host:port")';
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[^:[\]\s/]+):\d{1,5}$/;

export interface ClusterEndpoint {
  readonly id: string;
  /** `host:port` of the member's Raft listener. */
  readonly address: string;
}

/** "n1=10.0.0.1:7400" or "n1=http://10.0.0.1:7400" → { id, address: "10.0.0.1:7400" }. */
export function parseEndpoint(text: string): ClusterEndpoint | undefined {
  const at = text.indexOf('=');
  if (at <= 0) return undefined;
  const id = text.slice(0, at).trim();
  const address = text
    .slice(at + 1)
    .trim()
    .replace(/^https?:\/\//, '')
    .replace(/\/$/, '');
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  if (id === '' || Buffer.byteLength(id) > 255 || !HOST_PORT.test(address) || port === 0 || port > 65535) {
    return undefined;
  }
  return { id, address };
}

const endpoint = z.string({ invalid_type_error: ENDPOINT }).transform((text, ctx) => {
  const parsed = parseEndpoint(text);
  if (parsed === undefined) {
    ctx.addIssue({ code: 'custom', message: `${ENDPOINT}, got "${text.slice(0, 128)}"` });
    return z.NEVER;
  }
  return parsed;
});

/** A list in YAML, or "a=h:p, b=h:p" in an environment variable. */
const endpointList = z.preprocess(
  (value) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((piece) => piece.trim())
          .filter((piece) => piece !== '')
      : value,
  z.array(endpoint),
);

/**
 * Cluster checkpoints (barriers), with Flink's knobs: `intervalMs` (0: only when asked), `timeoutMs`,
 * `minPauseMs` between the end of one and the beginning of the next, `maxConcurrent` in flight,
 * `tolerableFailures` in a row before the cluster reports its checkpoints failing, and `retained`: the newest
 * committed cluster checkpoints whose node checkpoints every node keeps whatever its own retention says.
 */
const clusterCheckpointsSchema = z
  .object({
    intervalMs: nonNegativeInt(60_000),
    timeoutMs: positiveInt(600_000),
    minPauseMs: nonNegativeInt(0),
    maxConcurrent: positiveInt(1),
    tolerableFailures: nonNegativeInt(0),
    retained: positiveInt(3),
  })
  .strict()
  .default({});

export const clusterSchema = z
  .object({
    /** Every voter of the cluster at its first start, this node included; empty: the embedded mode. */
    endpoints: endpointList.default([]),
    /** Where this node's Raft listener binds (default: its own endpoint's address). */
    listen: z.string().trim().regex(HOST_PORT, 'expected host:port').optional(),
    /** Signs every Raft RPC (HMAC-SHA256); at least 16 characters; needed once there is a peer. */
    secret: z.string().min(16, 'expected at least 16 characters').optional(),
    /** This node is being added to a running cluster: it does not vote until the leader adds it. */
    join: bool(false),
    electionTimeoutMs: positiveInt(1_000),
    heartbeatIntervalMs: positiveInt(100),
    /** A member not heard from for this long is reported unreachable (GET /v1/cluster). */
    partitionToleranceMs: positiveInt(10_000),
    /** Applied entries between snapshots of the cluster's state. */
    snapshotEvery: positiveInt(10_000),
    checkpoints: clusterCheckpointsSchema,
    /**
     * With Redis (tiering.redisUrl), the leader keeps `{term, nodeId, address}` there for this long,
     * renewed every third of it: a hint for workers in other processes, never the authority.
     */
    leaderHintTtlMs: positiveInt(5_000),
    /**
     * Test only: SIGUSR2 cuts this node off from every peer (and heals it again), so tests can partition
     * a node without network namespaces. Never set it in production.
     */
    testFaults: bool(false),
    /** This node's REST API as other processes reach it (stored in the leader hint), e.g. http://n1:7070. */
    apiUrl: z.string().trim().url('expected a URL such as http://n1:7070').optional(),
    tls: z
      .object({
        keyFile: nonEmptyString('a file path'),
        certFile: nonEmptyString('a file path'),
        caFile: nonEmptyString('a file path').optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((cluster, ctx) => {
    if (cluster.electionTimeoutMs < 2 * cluster.heartbeatIntervalMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['electionTimeoutMs'],
        message: 'must be at least twice heartbeatIntervalMs',
      });
    }
    const ids = cluster.endpoints.map((e) => e.id);
    const twice = ids.find((id, i) => ids.indexOf(id) !== i);
    if (twice !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['endpoints'], message: `node "${twice}" is listed twice` });
    }
    if ((cluster.endpoints.length > 1 || cluster.join) && cluster.secret === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['secret'],
        message: 'a cluster of more than one node needs a secret (TIDEMARK_CLUSTER_SECRET)',
      });
    }
  });

export type ClusterSettings = z.output<typeof clusterSchema>;
