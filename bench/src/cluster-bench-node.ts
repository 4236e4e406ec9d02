/**
 * One Raft node of the cluster benchmark, as a child process (forked by cluster-bench-processes.ts): a
 * RaftNode over the real FileRaftLogStore and HttpRaftTransport, the pieces `tidemark serve` wires
 * (src/node/open-coordinator.ts), without the REST service around them, and a state machine that only
 * counts. It reports every change of its role, leader or term to the parent, stamped with the shared wall
 * clock, and answers the parent's status and load requests. It exits when the parent goes.
 */
import { FileRaftLogStore } from '../../src/coordination/raft/log-store/file-raft-log-store';
import { RaftNode } from '../../src/coordination/raft/raft-node';
import type { ReplicatedStateMachine } from '../../src/coordination/raft/replicated-state-machine';
import { HttpRaftTransport } from '../../src/coordination/raft/transport/http/http-raft-transport';
import { CountingStore } from './cluster-bench-counting-store';
import { runLoad } from './cluster-bench-load';
import {
  wallNow,
  type ChildMessage,
  type NodeSpec,
  type NodeState,
  type ParentMessage,
  type StatusReply,
  type TransportCounts,
} from './cluster-bench-protocol';

export const CLUSTER_BENCH_SECRET = 'the-cluster-bench-secret';

/** A trivial state machine: applying costs next to nothing, so what is measured is Raft. */
class Counter implements ReplicatedStateMachine {
  private applied = 0;
  apply(): number {
    return ++this.applied;
  }
  snapshot(): Uint8Array {
    const out = Buffer.alloc(8);
    out.writeDoubleLE(this.applied);
    return out;
  }
  restore(snapshot: Uint8Array): void {
    this.applied = snapshot.length >= 8 ? Buffer.from(snapshot).readDoubleLE(0) : 0;
  }
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as NodeSpec;
  const members = new Map(spec.members);
  const store = new CountingStore(new FileRaftLogStore(spec.dir));
  const transport = new HttpRaftTransport({
    nodeId: spec.id,
    listen: members.get(spec.id) as string,
    secret: CLUSTER_BENCH_SECRET,
  });
  const node = await RaftNode.open({
    id: spec.id,
    initialMembers: members,
    electionTimeoutMs: spec.electionTimeoutMs,
    heartbeatIntervalMs: spec.heartbeatIntervalMs,
    partitionToleranceMs: 10_000,
    store,
    transport,
    stateMachine: new Counter(),
  });

  let last: NodeState = { role: '', leader: '', term: -1 };
  // On every role or leader change the driver reports, and on a short poll: the driver reports a change
  // only after saving the Ready that carries it, the poll sees the core's view before that save.
  const observe = (): void => {
    const { role, leader, term } = node.status();
    if (role === last.role && leader === last.leader && term === last.term) return;
    last = { role, leader, term };
    send({ type: 'state', id: spec.id, at: wallNow(), ...last });
  };
  node.onRoleChange(observe);
  const poll = setInterval(observe, spec.pollMs);

  process.on('message', (message: ParentMessage) => {
    void handle(message).catch((error: unknown) => {
      const requestId = 'requestId' in message ? message.requestId : 0;
      send({ type: 'error', requestId, message: error instanceof Error ? error.message : String(error) });
    });
  });
  const handle = async (message: ParentMessage): Promise<void> => {
    switch (message.type) {
      case 'status':
        send({ type: 'status', requestId: message.requestId, status: statusOf(node) });
        return;
      case 'load':
        send({
          type: 'load',
          requestId: message.requestId,
          result: await runLoad(node, store, () => sentBy(transport), message),
        });
        return;
      case 'exit':
        // A clean exit, so that --cpu-prof writes its profile.
        clearInterval(poll);
        await node.close();
        process.exit(0);
    }
  };
  // Without the parent nobody would ever stop this process.
  process.on('disconnect', () => process.exit(1));

  await node.start();
  send({ type: 'ready', id: spec.id, at: wallNow() });
  observe();
}

function sentBy(transport: HttpRaftTransport): TransportCounts {
  const sum: TransportCounts = { sentBatches: 0, sentMessages: 0, failedStreams: 0, droppedMessages: 0 };
  for (const peer of Object.values(transport.stats().peers)) {
    sum.sentBatches += peer.sentBatches;
    sum.sentMessages += peer.sentMessages;
    sum.failedStreams += peer.failedStreams;
    sum.droppedMessages += peer.droppedMessages;
  }
  return sum;
}

function statusOf(node: RaftNode): StatusReply {
  const status = node.status();
  return {
    role: status.role,
    leader: status.leader,
    term: status.term,
    lastIndex: status.lastIndex,
    commitIndex: status.commitIndex,
    members: status.members.map((m) => ({ id: m.id, match: m.match })),
  };
}

main().catch((error: unknown) => {
  process.stderr.write(
    `cluster bench node: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
