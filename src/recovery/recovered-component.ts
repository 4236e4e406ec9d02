import type { Manifest } from '../checkpoint/manifest/manifest';
import { StateDigest } from '../checkpoint/manifest/state-digest';
import type { RunSlice } from '../checkpoint/run/run-slice';
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
