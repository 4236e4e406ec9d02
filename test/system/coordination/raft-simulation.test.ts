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
    it(`${scenario.name}: every safety property at every step, liveness when calm`, () => {
      const seeds = only === undefined ? (seedsPerScenario ?? scenario.seeds) : 1;
      let committed = 0;
      for (let i = 0; i < seeds; i++) {
        const seed = only ?? i + 1;
        const report = new Simulation({ seed, ...scenario.options }).run();
        committed += report.committed;
      }
      expect(committed).toBeGreaterThan(0);
    });
  }
});
