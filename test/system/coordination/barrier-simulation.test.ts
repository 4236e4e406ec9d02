import { BarrierSimulation, type BarrierSimulationOptions } from '../../support/raft/barrier-simulation';

/**
 * Cluster checkpoints (the barrier) under the deterministic Raft simulation
 * (test/support/raft/barrier-simulation.ts). BARRIER_SEEDS sets how many seeds each scenario runs (default:
 * 1,000+ in all); BARRIER_SEED replays one seed of every scenario.
 */
const seedsPerScenario = Number(process.env.BARRIER_SEEDS ?? 0) || undefined;
const only = process.env.BARRIER_SEED === undefined ? undefined : Number(process.env.BARRIER_SEED);

const scenarios: { name: string; seeds: number; options: Omit<BarrierSimulationOptions, 'seed'> }[] = [
  { name: '3 nodes, calm network', seeds: 250, options: { nodes: 3, steps: 600 } },
  { name: '3 nodes, faults', seeds: 400, options: { nodes: 3, steps: 800, faults: true } },
  { name: '5 nodes, faults', seeds: 350, options: { nodes: 5, steps: 800, faults: true } },
  {
    name: '5 nodes, faults and membership changes',
    seeds: 300,
    options: { nodes: 5, steps: 800, faults: true, membership: true },
  },
];

describe('cluster checkpoints: deterministic simulation', () => {
  for (const scenario of scenarios) {
    const seeds = only === undefined ? (seedsPerScenario ?? scenario.seeds) : 1;
    it(
      `${scenario.name}: every invariant at every applied command, a requested checkpoint commits when calm (${seeds} seeds)`,
      () => {
        const total: Record<string, number> = {};
        for (let i = 0; i < seeds; i++) {
          const { counts } = new BarrierSimulation({ seed: only ?? i + 1, ...scenario.options }).run();
          for (const [key, value] of Object.entries(counts)) total[key] = (total[key] ?? 0) + value;
        }
        // What the scenario exercised, printed with BARRIER_REPORT=1. Deposed commits refused are counted,
        // not asserted: Raft's log order leaves no commit entry of an older term after a newer `leader` entry,
        // so the record's refusal is a second line of defence the simulation does not reach (0 so far).
        if (process.env.BARRIER_REPORT)
          console.log(`${scenario.name}, ${seeds} seeds: ${JSON.stringify(total)}`);
        expect(total.committed).toBeGreaterThan(0);
        // The rest needs more than a handful of seeds (a few may see no decline, nor a late ack).
        if (only !== undefined || seeds < 50) return;
        expect(total.declined).toBeGreaterThan(0);
        expect(total.aborted).toBeGreaterThan(0);
        expect(total.lateAcksIgnored).toBeGreaterThan(0);
        if (scenario.options.faults) {
          expect(total.leaderChangedBeforeCommit).toBeGreaterThan(0);
          expect(total.crashesMidCheckpoint).toBeGreaterThan(0);
          expect(total.recuts).toBeGreaterThan(0);
        }
      },
      Math.max(60_000, seeds * 300),
    );
  }
});
