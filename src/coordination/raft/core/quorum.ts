import type { NodeId } from './types';

/** The size of a majority of `voters` voters. */
export function majority(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** The highest index that a majority of `voters` have (their `match`); 0 when there are no voters. */
export function committedIndex(voters: readonly NodeId[], match: (node: NodeId) => number): number {
  if (voters.length === 0) return 0;
  const indexes = voters.map(match).sort((a, b) => b - a);
  return indexes[majority(voters.length) - 1] as number;
}

export type VoteResult = 'won' | 'lost' | 'pending';

/** The outcome of an election with the answers so far (`votes`: node → granted). */
export function tally(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const voter of voters) {
    const vote = votes.get(voter);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const needed = majority(voters.length);
  if (granted >= needed) return 'won';
  if (rejected > voters.length - needed) return 'lost';
  return 'pending';
}
