import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MetadataRecord, encodeMetadataCommand } from '../../../src/coordination/cluster/metadata-record';
import { FileRaftLogStore } from '../../../src/coordination/raft/log-store/file-raft-log-store';
import { RaftNode } from '../../../src/coordination/raft/raft-node';
import { HttpRaftTransport } from '../../../src/coordination/raft/transport/http/http-raft-transport';
import { freePort } from '../child-server';
import { eventually } from '../eventually';

export const SECRET = 'a-cluster-secret-of-test';

export interface ClusterMember {
  id: string;
  address: string;
  dir: string;
  node: RaftNode | undefined;
  record: MetadataRecord;
}

/**
 * Raft nodes in this process over real HTTP on loopback and real log stores in temp directories: what
 * `tidemark serve` runs, without the rest of the service. Timings are short so elections take ~100 ms.
 */
export class RaftNodeCluster {
  readonly members = new Map<string, ClusterMember>();
  private readonly root = mkdtempSync(path.join(tmpdir(), 'tidemark-raft-'));

  static async start(size: number): Promise<RaftNodeCluster> {
    const cluster = new RaftNodeCluster();
    const initial = new Map<string, string>();
    for (let i = 1; i <= size; i++) initial.set(`n${i}`, `127.0.0.1:${await freePort()}`);
    for (const [id, address] of initial) {
      cluster.members.set(id, {
        id,
        address,
        dir: path.join(cluster.root, id),
        node: undefined,
        record: new MetadataRecord(),
      });
    }
    const opened = await Promise.allSettled([...initial.keys()].map((id) => cluster.open(id, initial)));
    const failed = opened.find((outcome) => outcome.status === 'rejected');
    if (failed) {
      await cluster.dispose();
      throw failed.reason;
    }
    return cluster;
  }

  async open(id: string, initial: ReadonlyMap<string, string>, join = false): Promise<RaftNode> {
    const member = this.members.get(id);
    if (member === undefined) throw new Error(`no member ${id}`);
    member.record = new MetadataRecord();
    member.node = await RaftNode.open({
      id,
      initialMembers: initial,
      join,
      electionTimeoutMs: 150,
      heartbeatIntervalMs: 25,
      partitionToleranceMs: 500,
      snapshotEvery: 50,
      store: new FileRaftLogStore(member.dir),
      transport: new HttpRaftTransport({ nodeId: id, listen: member.address, secret: SECRET }),
      stateMachine: member.record,
    });
    await member.node.start();
    return member.node;
  }

  /** A member that is not running yet (a node to add). */
  async addMember(id: string): Promise<ClusterMember> {
    const member = {
      id,
      address: `127.0.0.1:${await freePort()}`,
      dir: path.join(this.root, id),
      node: undefined,
      record: new MetadataRecord(),
    };
    this.members.set(id, member);
    return member;
  }

  initialMap(): Map<string, string> {
    return new Map([...this.members.values()].map((m) => [m.id, m.address]));
  }

  async leader(): Promise<ClusterMember> {
    let leader: ClusterMember | undefined;
    await eventually('one node leads', () => {
      const leaders = [...this.members.values()].filter((m) => m.node?.status().role === 'leader');
      leader = leaders.length === 1 ? leaders[0] : undefined;
      return leader !== undefined;
    });
    return leader as ClusterMember;
  }

  async set(key: string, value: string): Promise<number> {
    for (;;) {
      const leader = await this.leader();
      try {
        const applied = await (leader.node as RaftNode).propose(
          encodeMetadataCommand({ op: 'set', key, value }),
        );
        return applied.index;
      } catch (error) {
        if ((error as { code?: string }).code !== 'NOT_LEADER') throw error;
      }
    }
  }

  async stop(id: string): Promise<void> {
    const member = this.members.get(id);
    await member?.node?.close();
    if (member) member.node = undefined;
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.members.keys()].map((id) => this.stop(id)));
    rmSync(this.root, { recursive: true, force: true });
  }
}
