/* global module */
/**
 * The house's layer rules (docs/architecture.md): a folder of src/ imports only folders below it in LAYERS,
 * never one above; nothing in a folder imports a face (src/*.ts); src/ never imports tests or benchmarks;
 * no import cycles. `npm run layers` checks them (part of `npm test`); an upward arrow fails the build.
 * Type-only imports count: a type from above is still a dependency on what is above.
 */
const LAYERS = [
  'cli', // commander commands: thin shells over node/ and the cores
  'server', // the only place Nest lives: app, HTTP glue, controllers, the node module, WorkerHosts, health
  'node', // the composition root: settings + components -> an open node; the recovery reader
  'config', // one schema (it names the cores' defaults), the env + YAML loader
  'coordination', // Raft: the pure core, its driver, log store and transport; the cluster's state machine
  'recovery', // planner, engine, fetch pipeline, outputs, verification
  'tiering', // shipping, the reconciler, the maintenance lease and scheduler, retention and GC
  'jobs', // the JobQueue port, runner, in-process and BullMQ adapters
  'checkpoint', // state, blocks, manifests, catalog, merger, writer and reader, the checkpoint system
  'wal', // the segmented log and its archive (packs, uploads record)
  'storage', // the ObjectStore port, keys, decorators, adapters
  'lib', // knows no domain: errors, fs helpers, Clock, Logger, serial queue, bounded waits
];

const KNOWN = `^src/((${LAYERS.join('|')})/|[^/]+\\.ts$)`;

const upward = LAYERS.map((layer, i) => ({
  name: `no-upward-from-${layer}`,
  comment: `${layer}/ may import only the layers below it: ${LAYERS.slice(i + 1).join(', ') || 'none'}`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${LAYERS.slice(0, i).join('|') || '$^'})/` },
}));

module.exports = {
  forbidden: [
    ...upward.filter((rule) => rule.name !== 'no-upward-from-cli'),
    {
      name: 'no-face-from-inside',
      comment:
        'src/index.ts, s3.ts, gcs.ts, azure.ts, redis.ts and cli.ts are entry points: nothing imports them',
      severity: 'error',
      from: { path: '^src/[^/]+/' },
      to: { path: '^src/[^/]+\\.ts$' },
    },
    {
      name: 'no-tests-or-bench-from-src',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-unknown-folder',
      comment: 'every folder of src/ has a place in LAYERS (.dependency-cruiser.cjs)',
      severity: 'error',
      from: { path: '^src/', pathNot: KNOWN },
      to: {},
    },
    {
      name: 'no-import-of-unknown-folder',
      comment: 'every folder of src/ has a place in LAYERS (.dependency-cruiser.cjs)',
      severity: 'error',
      from: {},
      to: { path: '^src/', pathNot: KNOWN },
    },
    {
      name: 'wal-through-its-faces',
      comment:
        'outside src/wal, the WAL is used through wal/index.ts and its archive through wal/archive/index.ts: ' +
        'tiering ships packs and recovery reads them without reaching into frames, headers or footers',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/wal/' },
      to: { path: '^src/wal/', pathNot: '^src/wal/(archive/)?index\\.ts$' },
    },
    {
      name: 'raft-core-is-pure',
      comment:
        'the Raft core does no I/O and reads no clock (etcd style): it imports only itself and lib/errors, ' +
        'never a Node built-in, a package or another room',
      severity: 'error',
      from: { path: '^src/coordination/raft/core/' },
      to: { pathNot: '^src/(coordination/raft/core/|lib/errors/)' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.d\\.ts$' },
  },
};
