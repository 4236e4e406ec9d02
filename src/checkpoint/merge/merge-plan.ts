/**
 * How a merge is cut into per-component jobs, and how the `optimal` strategy trims them.
 *
 * Every component of the base or of any delta is one job: its base records and, in argument order, the
 * deltas that hold it (with their argument positions, the rules' tie-breaker). `sequential` merges the
 * jobs as they are. `optimal` first:
 *   - passes components no delta touches straight through (their records array is reused, no work);
 *   - drops a component's deltas that offer nothing (no records, no clear);
 *   - under last-write-wins, drops every delta that ends before the latest clear among the component's
 *     deltas: each of its candidates has a lower LSN than that clear (or than the record its delta wrote
 *     after the clear), so it can never win — and the base goes too, for the same reason;
 *   - weighs each job by its delta records (phase 1 reads each once per delta of the component), sends
 *     jobs of at least `inlineThreshold` records to the workers, heaviest first (longest-processing-time
 *     first: the best simple schedule for balancing `parallelThreads` threads), and merges the rest
 *     inline while the workers run.
 * No reordering of deltas is needed: every rule is a maximum over a total order, so one k-way pass over
 * all of a component's deltas is order-independent and reads each record once — cheaper than any
 * pairwise folding order, which would read records again at every level.
 */
import type { ComponentDelta, ComponentSnapshot, Delta, Snapshot } from '../state/state-types';
import { RULE_LAST_WRITE_WINS } from './conflict-resolution';

export interface ComponentJob {
  componentId: string;
  base: ComponentSnapshot | undefined;
  deltas: ComponentDelta[];
  /** sources[d]: argument position of deltas[d]. */
  sources: number[];
}

/** One job per component of the base or of any delta, sorted by component id. */
export function collectJobs(base: Snapshot, incrementals: readonly Delta[]): ComponentJob[] {
  const jobs = new Map<string, ComponentJob>();
  for (const [id, component] of base.components) {
    jobs.set(id, { componentId: id, base: component, deltas: [], sources: [] });
  }
  incrementals.forEach((delta, source) => {
    for (const [id, component] of delta.components) {
      let job = jobs.get(id);
      if (job === undefined) {
        job = { componentId: id, base: undefined, deltas: [], sources: [] };
        jobs.set(id, job);
      }
      job.deltas.push(component);
      job.sources.push(source);
    }
  });
  return [...jobs.values()].sort((a, b) =>
    a.componentId < b.componentId ? -1 : a.componentId > b.componentId ? 1 : 0,
  );
}

/** The `optimal` trims of one job; returns how many deltas it dropped. */
export function pruneJob(job: ComponentJob, incrementals: readonly Delta[], rule: number): number {
  const before = job.deltas.length;
  let latestClear = -1;
  for (const d of job.deltas) {
    if (d.clearedAt !== undefined && d.clearedAt.lsn > latestClear) latestClear = d.clearedAt.lsn;
  }
  const lww = rule === RULE_LAST_WRITE_WINS && latestClear >= 0;
  const deltas: ComponentDelta[] = [];
  const sources: number[] = [];
  for (let d = 0; d < job.deltas.length; d++) {
    const delta = job.deltas[d];
    if (delta.records.length === 0 && delta.clearedAt === undefined) continue;
    if (lww && incrementals[job.sources[d]].toLsn < latestClear) continue;
    deltas.push(delta);
    sources.push(job.sources[d]);
  }
  job.deltas = deltas;
  job.sources = sources;
  if (lww) job.base = undefined;
  return before - deltas.length;
}

/** Phase-1 weight of a job: its delta records. */
export function jobWeight(job: ComponentJob): number {
  let records = 0;
  for (const d of job.deltas) records += d.records.length;
  return records;
}
