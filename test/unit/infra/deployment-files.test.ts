/**
 * The three-node cluster of docker-compose.yml and the Kubernetes manifests of infra/k8s cannot be run here
 * (no Docker engine, no Kubernetes), so their cross-references are checked on the files: every node has its
 * own id, key prefix and volume and names the others; the variables compose needs are in .env.example; the
 * StatefulSet, its Services, its PodDisruptionBudget, ConfigMap and Secret name each other and select its
 * pods; and the configuration each node would get loads, with what the node is meant to have.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../../src/config';

const ROOT = path.resolve(__dirname, '../../..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

/** The cluster checkpoint settings; compose and the StatefulSet set some of them, and nothing else by that prefix. */
const CLUSTER_CHECKPOINT_VARS = [
  'TIDEMARK_CLUSTER_CHECKPOINT_INTERVAL_MS',
  'TIDEMARK_CLUSTER_CHECKPOINT_TIMEOUT_MS',
  'TIDEMARK_CLUSTER_CHECKPOINT_MIN_PAUSE_MS',
  'TIDEMARK_CLUSTER_CHECKPOINT_MAX_CONCURRENT',
  'TIDEMARK_CLUSTER_CHECKPOINT_TOLERABLE_FAILURES',
];

function checkpointVarsKnown(env: Record<string, unknown>): void {
  for (const name of Object.keys(env).filter((key) => key.startsWith('TIDEMARK_CLUSTER_CHECKPOINT_'))) {
    expect(CLUSTER_CHECKPOINT_VARS).toContain(name);
  }
}

/** "a=h:p,b=h:p" → [[a, h:p], [b, h:p]]. */
function endpointsOf(list: string): [string, string][] {
  return list
    .split(',')
    .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]);
}

describe('docker-compose.yml: the three-node cluster', () => {
  interface Service {
    build?: { context?: string; dockerfile?: string };
    image?: string;
    ports?: string[];
    expose?: string[];
    environment?: Record<string, string>;
    volumes?: string[];
    depends_on?: Record<string, { condition: string }>;
    restart?: string;
  }
  const text = read('docker-compose.yml');
  // `<<: *anchor` merge keys, as compose reads them.
  const compose = parse(text, { merge: true }) as {
    services: Record<string, Service>;
    volumes: Record<string, unknown>;
  };
  const nodes = Object.keys(compose.services).filter((name) => name.startsWith('tidemark'));
  const service = (name: string): Service => compose.services[name]!;
  const env = (name: string): Record<string, string> => service(name).environment ?? {};

  const example = Object.fromEntries(
    read('.env.example')
      .split('\n')
      .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const interpolate = (value: string): string =>
    value
      .replace(/\$\{([A-Z_][A-Z0-9_]*)(?::\?[^}]*)?\}/g, (_, name: string) => {
        if (!example[name]) throw new Error(`${name} is not in .env.example`);
        return example[name];
      })
      .replace(/\$\$/g, '$');

  it('runs three Tidemark nodes from one build, each after Redis and the bucket, restarted', () => {
    expect(nodes).toEqual(['tidemark-1', 'tidemark-2', 'tidemark-3']);
    for (const name of nodes) {
      expect(service(name).image).toBeUndefined();
      expect(service(name).build).toEqual({ context: '.', dockerfile: 'infra/Dockerfile' });
      expect(service(name).restart).toBe('unless-stopped');
      expect(service(name).depends_on).toEqual({
        redis: { condition: 'service_healthy' },
        'minio-init': { condition: 'service_completed_successfully' },
      });
    }
  });

  it('gives each node its own id, key prefix, data volume and loopback port', () => {
    const ids = nodes.map((name) => env(name).TIDEMARK_NODE_ID);
    expect(ids).toEqual(['n1', 'n2', 'n3']);
    expect(nodes.map((name) => env(name).TIDEMARK_STORAGE_PREFIX)).toEqual(ids.map((id) => `tidemark/${id}`));
    const dataVolumes = nodes.map((name) => {
      const mounts = (service(name).volumes ?? []).filter((volume) => volume.split(':')[1] === '/data');
      expect(mounts).toHaveLength(1);
      return mounts[0]!.split(':')[0]!;
    });
    expect(new Set(dataVolumes).size).toBe(nodes.length);
    for (const volume of dataVolumes) expect(Object.keys(compose.volumes)).toContain(volume);
    expect(nodes.map((name) => service(name).ports)).toEqual([
      ['127.0.0.1:7071:7070'],
      ['127.0.0.1:7072:7070'],
      ['127.0.0.1:7073:7070'],
    ]);
    // The Raft port stays on the compose network.
    const published = Object.values(compose.services).flatMap((s) => s.ports ?? []);
    expect(published.filter((port) => port.endsWith(':7400'))).toEqual([]);
  });

  it('points every node at all three Raft listeners, with one secret and the same settings', () => {
    const perNode = new Set(['TIDEMARK_NODE_ID', 'TIDEMARK_STORAGE_PREFIX']);
    const shared = (name: string): Record<string, string> =>
      Object.fromEntries(Object.entries(env(name)).filter(([key]) => !perNode.has(key)));
    for (const name of nodes) expect(shared(name)).toEqual(shared(nodes[0]!));

    const common = env(nodes[0]!);
    const listenPort = common.TIDEMARK_CLUSTER_LISTEN!.split(':')[1];
    expect(common.TIDEMARK_CLUSTER_LISTEN).toBe('0.0.0.0:7400');
    expect(service(nodes[0]!).expose).toEqual([listenPort]);
    expect(endpointsOf(common.TIDEMARK_CLUSTER_ENDPOINTS!)).toEqual(
      nodes.map((name) => [env(name).TIDEMARK_NODE_ID, `${name}:${listenPort}`]),
    );
    expect(common.TIDEMARK_CLUSTER_SECRET).toMatch(/^\$\{CLUSTER_SECRET:\?[^}]+\}$/);
    for (const key of [
      'TIDEMARK_ELECTION_TIMEOUT_MS',
      'TIDEMARK_HEARTBEAT_INTERVAL_MS',
      'TIDEMARK_PARTITION_TOLERANCE_MS',
      'TIDEMARK_CLUSTER_CHECKPOINT_INTERVAL_MS',
    ])
      expect(common[key]).toMatch(/^\d+$/);
    checkpointVarsKnown(common);
  });

  it('requires every variable it uses (`${VAR:?…}`) and .env.example names each one', () => {
    const used = [...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)([^}]*)\}/g)];
    expect(used.map(([, name]) => name)).toContain('CLUSTER_SECRET');
    for (const [, name, rest] of used) {
      expect({ name, required: rest!.startsWith(':?') }).toEqual({ name, required: true });
      expect(Object.keys(example)).toContain(name);
    }
    // The example's cluster secret is long enough for the service to accept it (then replaced by the user).
    expect(example.CLUSTER_SECRET!.length).toBeGreaterThanOrEqual(16);
  });

  it.each(['tidemark-1', 'tidemark-2', 'tidemark-3'])(
    'configures %s so that its configuration loads',
    (name) => {
      const nodeEnv = Object.fromEntries(
        Object.entries(env(name)).map(([key, value]) => [key, interpolate(value)]),
      );
      expect(nodeEnv.TIDEMARK_CONFIG).toBe('/etc/tidemark/minio.yaml');
      expect(service(name).volumes).toContain('./infra/config/minio.yaml:/etc/tidemark/minio.yaml:ro');
      const config = loadConfig({ configFile: path.join(ROOT, 'infra/config/minio.yaml'), env: nodeEnv });
      const id = nodeEnv.TIDEMARK_NODE_ID;
      expect(config.checkpoint.nodeId).toBe(id);
      expect(config.storage).toMatchObject({
        backend: 'S3',
        endpoint: 'http://minio:9000',
        prefix: `tidemark/${id}`,
      });
      expect(config.cluster.endpoints.map((e) => e.id)).toEqual(['n1', 'n2', 'n3']);
      expect(config.cluster.endpoints.find((e) => e.id === id)!.address).toBe(`${name}:7400`);
      expect(config.cluster.listen).toBe('0.0.0.0:7400');
      expect(config.cluster.secret).toBe(example.CLUSTER_SECRET);
      expect(config.tiering.redisUrl).toBe(`redis://:${example.REDIS_PASSWORD}@redis:6379`);
      expect(config.server).toMatchObject({ host: '0.0.0.0', port: 7070 });
      expect(config.dataDir).toBe('/data');
    },
  );
});

describe('infra/k8s: the StatefulSet and what it refers to', () => {
  const DIR = 'infra/k8s';
  type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const files = readdirSync(path.join(ROOT, DIR))
    .filter((file) => file.endsWith('.yaml'))
    .sort();
  const docsOf = (file: string): Doc[] =>
    parseAllDocuments(read(`${DIR}/${file}`)).map((doc) => {
      expect(doc.errors).toEqual([]);
      return doc.toJS() as Doc;
    });
  const manifests = files.filter((file) => file !== 'kustomization.yaml');
  const all = manifests.flatMap((file) => docsOf(file).map((doc) => ({ file, doc })));
  const one = (kind: string, predicate: (doc: Doc) => boolean = () => true): Doc => {
    const found = all.filter(({ doc }) => doc.kind === kind && predicate(doc)).map(({ doc }) => doc);
    expect(found).toHaveLength(1);
    return found[0]!;
  };

  const kustomization = docsOf('kustomization.yaml')[0]!;
  const sts = one('StatefulSet');
  const pod = sts.spec.template as Doc;
  const container = (pod.spec.containers as Doc[])[0]!;
  const envList = container.env as Doc[];
  const podLabels = pod.metadata.labels as Record<string, string>;
  const headless = one('Service', (doc) => doc.spec.clusterIP === 'None');
  const secret = one('Secret');
  const configMap = one('ConfigMap');
  const replicas = sts.spec.replicas as number;
  const portOf = (name: string): number =>
    (container.ports as Doc[]).find((port) => port.name === name)!.containerPort as number;
  const selects = (selector: Record<string, string>): boolean =>
    Object.keys(selector).length > 0 &&
    Object.entries(selector).every(([key, value]) => podLabels[key] === value);

  it('has the expected files, each a manifest with apiVersion, kind and metadata.name', () => {
    expect(files).toEqual([
      'configmap.yaml',
      'kustomization.yaml',
      'namespace.yaml',
      'pdb.yaml',
      'secret.example.yaml',
      'service-headless.yaml',
      'service.yaml',
      'statefulset.yaml',
    ]);
    for (const { file, doc } of all) {
      expect({
        file,
        apiVersion: typeof doc.apiVersion,
        kind: typeof doc.kind,
        name: typeof doc.metadata?.name,
      }).toEqual({ file, apiVersion: 'string', kind: 'string', name: 'string' });
    }
  });

  it('kustomizes every manifest but the example Secret, into the namespace it defines', () => {
    expect(kustomization).toMatchObject({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
    });
    expect([...(kustomization.resources as string[])].sort()).toEqual(
      manifests.filter((file) => file !== 'secret.example.yaml'),
    );
    expect(kustomization.namespace).toBe(one('Namespace').metadata.name);
    // Applied by hand, so it names the namespace itself.
    expect(secret.metadata.namespace).toBe(kustomization.namespace);
    expect((kustomization.images as Doc[]).map((image) => image.name)).toEqual([container.image]);
  });

  it('governs the pods by the headless Service, which publishes them before they are ready', () => {
    expect(sts.spec.serviceName).toBe(headless.metadata.name);
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
    expect(selects(headless.spec.selector)).toBe(true);
    expect(headless.spec.ports).toEqual([
      { name: 'api', port: portOf('api'), targetPort: 'api' },
      { name: 'raft', port: portOf('raft'), targetPort: 'raft' },
    ]);
    expect([portOf('api'), portOf('raft')]).toEqual([7070, 7400]);
    const api = one('Service', (doc) => doc.spec.clusterIP !== 'None');
    expect(api.spec.type).toBe('ClusterIP');
    expect(selects(api.spec.selector)).toBe(true);
    expect(api.spec.ports).toEqual([{ name: 'api', port: 7070, targetPort: 'api' }]);
  });

  it('runs three voters together, one per Kubernetes node if it can, one down at a time at most', () => {
    expect(replicas).toBe(3);
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(selects(sts.spec.selector.matchLabels)).toBe(true);
    const pdb = one('PodDisruptionBudget');
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(selects(pdb.spec.selector.matchLabels)).toBe(true);
    const [term] = pod.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution as Doc[];
    expect(term!.podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(selects(term!.podAffinityTerm.labelSelector.matchLabels)).toBe(true);
  });

  it('names the node after its pod and derives its key prefix from that name', () => {
    const names = envList.map((variable) => variable.name as string);
    expect(new Set(names).size).toBe(names.length);
    expect(envList[0]).toEqual({
      name: 'TIDEMARK_NODE_ID',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
    const prefix = envList.find((variable) => variable.name === 'TIDEMARK_STORAGE_PREFIX')!;
    expect(prefix.value).toBe('tidemark/$(TIDEMARK_NODE_ID)');
    // Kubernetes expands $(VAR) only from variables defined earlier in the list.
    envList.forEach((variable, at) => {
      for (const [, ref] of String(variable.value ?? '').matchAll(/\$\(([A-Z_][A-Z0-9_]*)\)/g)) {
        expect(names.slice(0, at)).toContain(ref);
      }
    });
    checkpointVarsKnown(Object.fromEntries(envList.map((variable) => [variable.name, variable.value])));
  });

  it("lists every replica's stable Raft address as an endpoint", () => {
    const value = (name: string): string => envList.find((variable) => variable.name === name)!.value;
    const expected = Array.from({ length: replicas }, (_, i) => {
      const id = `${sts.metadata.name}-${i}`;
      return [id, `${id}.${headless.metadata.name}:${portOf('raft')}`];
    });
    expect(endpointsOf(value('TIDEMARK_CLUSTER_ENDPOINTS'))).toEqual(expected);
    expect(value('TIDEMARK_CLUSTER_LISTEN')).toBe(`0.0.0.0:${portOf('raft')}`);
  });

  it('takes its secrets from the Secret of the example, its configuration from the ConfigMap', () => {
    const refs = envList
      .filter((variable) => variable.valueFrom?.secretKeyRef)
      .map((variable) => variable.valueFrom.secretKeyRef);
    expect(refs.map((ref) => ref.key).sort()).toEqual(Object.keys(secret.stringData).sort());
    for (const ref of refs) expect(ref.name).toBe(secret.metadata.name);
    expect(Object.keys(secret.stringData).sort()).toEqual(
      ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'REDIS_URL', 'TIDEMARK_CLUSTER_SECRET'].sort(),
    );
    expect(secret.data).toBeUndefined();

    const volume = (pod.spec.volumes as Doc[]).find((v) => v.configMap)!;
    expect(volume.configMap.name).toBe(configMap.metadata.name);
    const mount = (container.volumeMounts as Doc[]).find((m) => m.name === volume.name)!;
    const configPath = envList.find((variable) => variable.name === 'TIDEMARK_CONFIG')!.value as string;
    expect(path.posix.dirname(configPath)).toBe(mount.mountPath);
    expect(Object.keys(configMap.data)).toContain(path.posix.basename(configPath));
  });

  it('probes /health, runs as the image user with a read-only root, and outlasts its shutdown timeout', () => {
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      expect(container[probe].httpGet).toEqual({ path: '/health', port: 'api' });
    }
    expect(container.resources.requests).toMatchObject({
      cpu: expect.any(String),
      memory: expect.any(String),
    });
    expect(container.resources.limits.memory).toEqual(expect.any(String));
    // infra/Dockerfile runs as `node`, uid 1000 in the official Node images.
    expect(read('infra/Dockerfile')).toMatch(/^USER node$/m);
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    // Writable: the data volume and /tmp.
    const mounts = Object.fromEntries((container.volumeMounts as Doc[]).map((m) => [m.mountPath, m.name]));
    expect(mounts['/data']).toBe((sts.spec.volumeClaimTemplates as Doc[])[0]!.metadata.name);
    expect((pod.spec.volumes as Doc[]).find((v) => v.name === mounts['/tmp'])!.emptyDir).toBeDefined();
    // No injected <SERVICE>_PORT variable (TIDEMARK_PORT would be read as the server's port).
    expect(pod.spec.enableServiceLinks).toBe(false);
  });

  it.each([0, 1, 2])('gives pod tidemark-%i a configuration that loads', (ordinal) => {
    const podName = `${sts.metadata.name}-${ordinal}`;
    const env: Record<string, string> = {};
    for (const variable of envList) {
      if (variable.valueFrom?.fieldRef) {
        expect(variable.valueFrom.fieldRef.fieldPath).toBe('metadata.name');
        env[variable.name] = podName;
      } else if (variable.valueFrom?.secretKeyRef) {
        env[variable.name] = secret.stringData[variable.valueFrom.secretKeyRef.key];
      } else {
        env[variable.name] = String(variable.value).replace(
          /\$\(([A-Z_][A-Z0-9_]*)\)/g,
          (_, ref: string) => env[ref]!,
        );
      }
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tidemark-k8s-'));
    try {
      const file = path.join(dir, 'config.yaml');
      writeFileSync(file, configMap.data[path.posix.basename(env.TIDEMARK_CONFIG!)]);
      const config = loadConfig({ configFile: file, env });
      expect(config.checkpoint.nodeId).toBe(podName);
      expect(config.storage).toMatchObject({ backend: 'S3', prefix: `tidemark/${podName}` });
      expect(config.cluster.endpoints.map((e) => e.id)).toContain(podName);
      expect(config.cluster.secret).toBe(secret.stringData.TIDEMARK_CLUSTER_SECRET);
      expect(config.tiering.redisUrl).toBe(secret.stringData.REDIS_URL);
      expect(config.server).toMatchObject({ host: '0.0.0.0', port: portOf('api') });
      expect(config.dataDir).toBe('/data');
      expect(pod.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(config.server.shutdownTimeoutMs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
