import { encodeCheckpointCommand } from '../../../../src/coordination/barrier/checkpoint-command-codec';
import {
  ClusterStateMachine,
  type CheckpointCommandSeen,
} from '../../../../src/coordination/cluster/cluster-state-machine';
import { encodeMetadataCommand } from '../../../../src/coordination/cluster/metadata-record';

/** One state machine for the metadata and the barrier record: one command byte apart, one snapshot. */
describe('the cluster state machine', () => {
  const begin = encodeCheckpointCommand({ type: 'begin', id: 1, members: ['n1', 'n2'], at: 5 });

  it('routes commands by their first byte and snapshots both records together', () => {
    const machine = new ClusterStateMachine();
    machine.apply(encodeMetadataCommand({ op: 'set', key: 'k', value: 'v' }), 1, 1);
    expect(machine.apply(begin, 2, 1)).toEqual({ applied: true });
    const copy = new ClusterStateMachine();
    copy.restore(machine.snapshot());
    expect(copy.metadata.get('k')).toEqual({ value: 'v', index: 1 });
    expect(copy.checkpoints.get(1)).toMatchObject({
      state: 'pending',
      members: ['n1', 'n2'],
      beganInTerm: 1,
    });
  });

  it('restores a snapshot of the metadata alone (written before the barrier record existed)', () => {
    const old = new ClusterStateMachine();
    old.metadata.apply(encodeMetadataCommand({ op: 'set', key: 'a', value: 'b' }), 3);
    const machine = new ClusterStateMachine();
    machine.restore(old.metadata.snapshot());
    expect(machine.metadata.get('a')).toEqual({ value: 'b', index: 3 });
    expect(machine.checkpoints.lastId).toBe(0);
  });

  it('skips an unreadable barrier command alike on every node, changing nothing', () => {
    const machine = new ClusterStateMachine();
    expect(machine.apply(Buffer.from('C{"type":"begin","id":0}'), 1, 1)).toEqual({
      applied: false,
      why: 'an unreadable barrier command',
    });
    expect(machine.checkpoints.lastId).toBe(0);
  });

  it('tells of barrier commands as they land in the log, before they apply, and changes nothing then', () => {
    const machine = new ClusterStateMachine();
    const seen: CheckpointCommandSeen[] = [];
    machine.onCheckpointCommandSeen((s) => seen.push(s));
    machine.observe(begin, 7, 2);
    machine.observe(encodeMetadataCommand({ op: 'delete', key: 'x' }), 8, 2);
    expect(seen).toEqual([
      { command: { type: 'begin', id: 1, members: ['n1', 'n2'], at: 5 }, index: 7, term: 2 },
    ]);
    expect(machine.checkpoints.get(1)).toBeUndefined();
  });
});
