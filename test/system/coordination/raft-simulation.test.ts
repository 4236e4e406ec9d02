import { Simulation, type SimulationOptions } from '../../support/raft/simulation';

/**
 * The Raft core under a deterministic simulation (test/support/raft/simulation.ts). RAFT_SEEDS sets how many
 * seeds each scenario runs (default: enough for 1,000+ in all); RAFT_SEED replays one seed of every scenario.
 */
const seedsPerScenario = Number(process.env.RAFT_SEEDS ?? 0) || undefined;
const only = process.env.RAFT_SEED === undefined ? undefined : Number(process.env.RAFT_SEED);

const scenarios: { name: string; seeds: number; options: Omit<SimulationOptions, 'seed'> }[] = [
  { name: '3 nodes, calm network', seeds: 100, options: { nodes: 3, steps: 400 } },
  { name: '3 nodes, faults', seeds: 300, options: { nodes: 3, steps: 600, faults: true } },
  { name: '5 nodes, faults', seeds: 300, options: { nodes: 5, steps: 600, faults: true } },
  { name: '7 nodes, faults', seeds: 100, options: { nodes: 7, steps: 600, faults: true } },
  {
    name: '5 nodes, faults and membership changes',
    seeds: 300,
    options: { nodes: 5, steps: 800, faults: true, membership: true },
  },
];

describe('raft: deterministic simulation', () => {
  for (const scenario of scenarios) {
    const seeds = only === undefined ? (seedsPerScenario ?? scenario.seeds) : 1;
    it(
      `${scenario.name}: every safety property at every step, liveness when calm (${seeds} seeds)`,
      () => {
        const total = { committed: 0, leaders: 0, crashes: 0, snapshotsSent: 0, configChanges: 0 };
        for (let i = 0; i < seeds; i++) {
          const report = new Simulation({ seed: only ?? i + 1, ...scenario.options }).run();
          for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += report[key];
        }
        // The scenario did what it says: leaders elected and entries committed, and with faults, crashes and
        // snapshots sent to nodes left behind; with membership changes, changes made.
        expect(total.committed).toBeGreaterThan(0);
        expect(total.leaders).toBeGreaterThanOrEqual(seeds);
        if (scenario.options.faults && only === undefined) {
          expect(total.crashes).toBeGreaterThan(0);
          expect(total.snapshotsSent).toBeGreaterThan(0);
        }
        if (scenario.options.membership && only === undefined) expect(total.configChanges).toBeGreaterThan(0);
      },
      Math.max(60_000, seeds * 300),
    );
  }
});
