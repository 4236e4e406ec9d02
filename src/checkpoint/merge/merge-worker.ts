/**
 * The merge worker (run by piscina on `parallelThreads` threads): phase 1 of one component's merge over a
 * transferred wire buffer (merge-wire.ts). Answers with the ResolvedKeys Int32Array, moved back without a
 * copy. Validation errors travel inside the answer (its status), not as thrown errors, because an Error's
 * code does not survive the thread boundary.
 *
 * piscina loads this file by name: dist/checkpoint/merge/merge-worker.js in a build (see merge-pool.ts).
 */
import { move } from 'piscina';
import { resolveDeltaKeys } from './delta-resolution';
import { WireDeltaSource } from './merge-wire';

export default function resolveComponent(input: ArrayBuffer): unknown {
  const source = new WireDeltaSource(input);
  return move(resolveDeltaKeys(source, source.rule));
}
