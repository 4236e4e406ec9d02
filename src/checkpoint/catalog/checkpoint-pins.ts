/**
 * Checkpoints something outside the node still needs (a cluster checkpoint names them): retention keeps
 * them, with their chains, and deletion refuses them unless forced. Each source says which ids it pins,
 * asked afresh every time (its needs change as cluster checkpoints commit and age).
 */
export class CheckpointPins {
  private readonly sources = new Map<string, () => Iterable<number>>();

  /** `source` names who pins, for the refusal's message; a second call for it replaces the first. */
  add(source: string, ids: () => Iterable<number>): void {
    this.sources.set(source, ids);
  }

  /** Every pinned checkpoint id, with who pins it. */
  all(): Map<number, string> {
    const pinned = new Map<number, string>();
    for (const [source, ids] of this.sources) for (const id of ids()) pinned.set(id, source);
    return pinned;
  }
}
