import type { Manifest } from '../checkpoint/manifest/manifest';
import { StateDigest } from '../checkpoint/manifest/state-digest';
import { firstUnsortedSlice, type RunSlice } from '../checkpoint/run/run-slice';
import { SlicedComponent } from '../checkpoint/run/sliced-component';
import { runKey, runValue } from '../checkpoint/run/sorted-run';
import { TidemarkError } from '../lib/errors';

/** What a recovered component must pass before a recovery hands it out. */

/** The newest manifest of the chain that describes the component holds the digest of its whole state. */
export function checkDigest(id: string, slices: readonly RunSlice[], manifests: readonly Manifest[]): void {
  for (let i = manifests.length - 1; i >= 0; i--) {
    const described = manifests[i]!.components[id];
    if (!described) continue;
    const digest = sliceDigest(slices);
    if (digest !== described.digest) {
      throw new TidemarkError(
        'CHECKSUM_MISMATCH',
        `component ${id}: the recovered state's digest ${digest} differs from checkpoint ${manifests[i]!.checkpointId}'s ${described.digest}`,
        { details: { componentId: id, checkpointId: manifests[i]!.checkpointId } },
      );
    }
    return;
  }
}

function sliceDigest(slices: readonly RunSlice[]): string {
  const digest = new StateDigest();
  for (const { run, start, end } of slices)
    for (let i = start; i < end; i++) digest.update(runKey(run, i), runValue(run, i));
  return digest.digest();
}

/**
 * A recovered component, held as slices. Every run's keys rise (its decoder checked them) and a merge keeps
 * them in order: what is left to check is that each block starts above where the one before ended
 * (INVALID_STATE_DATA otherwise) — one comparison per slice, not per record.
 */
export function recoveredComponent(id: string, slices: readonly RunSlice[]): SlicedComponent {
  const bad = firstUnsortedSlice(slices, false);
  if (bad !== -1) {
    throw new TidemarkError(
      'INVALID_STATE_DATA',
      `component ${id}: its records are not in key order (block boundary ${bad})`,
      {
        details: { componentId: id },
      },
    );
  }
  return new SlicedComponent(id, slices);
}
