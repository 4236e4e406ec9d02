import {
  Raft,
  type Entry,
  type Membership,
  type Message,
  type NodeId,
  type Snapshot,
} from '../../../src/coordination/raft/core';
import { TidemarkError } from '../../../src/lib/errors';
import { Prng } from './prng';
import { SimChecker, Violation } from './sim-checker';
import { chainWith, SimDisk } from './sim-disk';
import { SimNetwork } from './sim-network';

export interface SimulationOptions {
  seed: number;
  /** Voters at the start (3, 5 or 7). */
  nodes: number;
  /** Steps of chaos before the quiet phase that checks liveness. */
  steps: number;
  electionTicks?: number;
  /** Crashes, restarts, partitions, lossy links. */
  faults?: boolean;
  /** Membership changes, wiped disks (a node replaced by a new identity), leadership transfers. */
  membership?: boolean;
  /** Multiplies how often faults strike (default 1). */
  intensity?: number;
  /** Receives a line per delivered message (for replaying a seed by hand). */
  trace?: (line: string) => void;
  /** An application on top of Raft (see SimMachine); without one, nodes apply only the chain. */
  machine?: SimMachine;
}

/**
 * An application state machine run on every node beside the chain (the barrier simulation's): it applies
 * committed entries, adds its state to each snapshot, and acts after each step. It must not call into a
 * node's Raft from apply or restore (they run between ready() and advance()).
 */
export interface SimMachine {
  /** `entry`, committed, applied on `node` (in log order). */
  apply(node: NodeId, entry: Entry): void;
  /** The machine's state on `node`, stored in the snapshot after the chain. */
  snapshot(node: NodeId): Uint8Array;
  /**
   * `node`'s state replaced by its snapshot's (`data` undefined: none, the state is empty) at `index`:
   * `restart` after a crash (what was in memory is gone), else a snapshot from the leader.
   */
  restore(node: NodeId, data: Uint8Array | undefined, index: number, restart: boolean): void;
  /** A message about to be delivered to a running node. */
  delivered?(message: Message): void;
  /** After every step (the network delivered, every node handled its Ready). */
  afterStep?(): void;
}

function describeMessage(m: Message): string {
  const entries =
    m.entries.length > 0 ? ` entries ${m.entries[0]?.index}..${m.entries[m.entries.length - 1]?.index}` : '';
  return (
    `${m.type} ${m.from}->${m.to} t${m.term} i${m.index} lt${m.logTerm} c${m.commit}${entries}` +
    `${m.reject ? ` REJECT hint ${m.rejectHint}` : ''}${m.context ? ` ctx ${m.context}` : ''}`
  );
}

export interface SimulationReport {
  seed: number;
  steps: number;
  committed: number;
  leaders: number;
  messages: number;
  crashes: number;
  snapshotsSent: number;
  configChanges: number;
}

const encodeChain = (chain: number) => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, chain);
  return bytes;
};
const decodeChain = (data: Uint8Array) => new DataView(data.buffer, data.byteOffset, 8).getFloat64(0);
/** What a machine stored in a snapshot, after the chain's 8 bytes. */
const machineData = (data: Uint8Array) => data.subarray(8);

class SimNode {
  raft: Raft | undefined;
  readonly disk = new SimDisk();
  applied = 0;
  chain = 0;
  retired = false;

  constructor(
    readonly id: NodeId,
    readonly bootstrap: Membership,
    readonly random: () => number,
  ) {}
}

/**
 * A deterministic simulation of a Raft cluster (after etcd's and TigerBeetle's): one seed drives every
 * choice — ticks, message loss, delay, duplication and order, partitions of every shape, crashes that lose
 * what was not yet persisted, restarts, wiped disks, membership changes and leadership transfers under load —
 * and the checker (sim-checker.ts) verifies the safety properties at every step. A quiet phase at the end
 * (network healed, every node up) checks liveness: a leader is elected and a proposal commits on every
 * voter within a bounded number of steps. A failure names the seed and step, so it replays exactly.
 */
export class Simulation {
  private readonly rng: Prng;
  private readonly network: SimNetwork;
  private readonly checker: SimChecker;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly electionTicks: number;
  private readonly maxMessageBytes: number;
  private readonly maxInflight: number;
  private now = 0;
  private proposals = 0;
  private requestIds = 0;
  private nextNodeNumber: number;
  private readonly report: SimulationReport;
  private calm = false;
  /** Voters left cut off (or down) during the quiet phase: a minority. */
  private readonly isolated = new Set<NodeId>();
  private readonly intensity: number;

  constructor(private readonly options: SimulationOptions) {
    this.rng = new Prng(options.seed);
    this.network = new SimNetwork(this.rng);
    this.checker = new SimChecker(() => `seed ${options.seed}, step ${this.now}`);
    this.electionTicks = options.electionTicks ?? 10;
    this.intensity = options.intensity ?? 1;
    // One entry per message on some seeds (so a follower can hold part of what a leader sent), more on others.
    this.maxMessageBytes = this.rng.pick([1, 100, 1024 * 1024]);
    this.maxInflight = this.rng.pick([1, 4, 256]);
    const voters = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
    this.nextNodeNumber = options.nodes + 1;
    for (const id of voters) this.addNode(id, { voters, learners: [] });
    this.report = {
      seed: options.seed,
      steps: 0,
      committed: 0,
      leaders: 0,
      messages: 0,
      crashes: 0,
      snapshotsSent: 0,
      configChanges: 0,
    };
  }

  run(): SimulationReport {
    if (this.options.faults) {
      // Up to 3 election timeouts of delay on some seeds; others see delays that rarely outlast a timeout.
      const maxDelay = this.rng.pick([2, this.electionTicks, 3 * this.electionTicks]);
      this.network.faults = { drop: 0.05, duplicate: 0.03, maxDelay };
    } else {
      this.network.faults = { drop: 0, duplicate: 0, maxDelay: 2 };
    }
    for (let i = 0; i < this.options.steps; i++) {
      if (this.options.faults) this.injectFault();
      if (this.options.membership) this.changeMembership();
      this.step();
      if (this.rng.chance(0.3)) this.propose();
      if (this.rng.chance(0.05)) this.askRead();
    }
    this.checkLiveness();
    this.report.steps = this.now;
    this.report.committed = this.checker.maxCommitted;
    this.report.messages = this.network.sent;
    return this.report;
  }

  // ---- for a machine that drives the nodes (the barrier simulation) --------------------------------------

  /** Steps taken so far: the simulated clock. */
  get time(): number {
    return this.now;
  }

  /** Where the simulation is, for a failure message. */
  where(): string {
    return `seed ${this.options.seed}, step ${this.now}`;
  }

  nodeIds(): NodeId[] {
    return [...this.nodes.keys()];
  }

  /** A node's Raft, undefined while it is down (or retired). */
  raftOf(id: NodeId): Raft | undefined {
    return this.nodes.get(id)?.raft;
  }

  isRetired(id: NodeId): boolean {
    return this.nodes.get(id)?.retired === true;
  }

  /** Crashes a running node: what it had not persisted is lost; a later fault restarts it. */
  crashNode(id: NodeId): void {
    const node = this.nodes.get(id);
    if (node !== undefined) this.crash(node);
  }

  /** One more step, after run(): the network stays as it is. */
  stepOnce(): void {
    this.step();
  }

  /** The network heals and stays calm, every node that is not retired runs, nobody is held apart. */
  calmDown(): void {
    this.calm = true;
    this.isolated.clear();
    this.network.heal();
    this.network.faults = { drop: 0, duplicate: 0, maxDelay: 2 };
    for (const node of this.nodes.values()) if (!node.retired && node.raft === undefined) this.restart(node);
  }

  // ---- one step -------------------------------------------------------------------------------------

  private step(): void {
    this.now++;
    for (const node of this.liveNodes()) {
      // Clocks drift: now and then a node misses a tick.
      if (!this.chaos() || !this.rng.chance(0.02)) node.raft?.tick();
    }
    for (const message of this.network.due(this.now)) {
      const node = this.nodes.get(message.to);
      if (node?.raft === undefined) continue;
      if (message.type === 'snapshot') this.report.snapshotsSent++;
      this.options.trace?.(`${this.now} deliver ${describeMessage(message)}`);
      this.options.machine?.delivered?.(message);
      node.raft.step(message);
    }
    for (const node of this.liveNodes()) this.handleReady(node);
    this.options.machine?.afterStep?.();
  }

  private handleReady(node: SimNode): void {
    for (let rounds = 0; node.raft?.hasReady() && rounds < 10; rounds++) {
      const raft = node.raft;
      const rd = raft.ready();
      // A crash before the disk answered: nothing of this Ready is persisted, nothing is sent.
      if (this.chaos() && this.rng.chance(0.002 * this.intensity)) return this.crash(node);
      if (rd.snapshot) node.disk.installSnapshot({ ...rd.snapshot, chain: decodeChain(rd.snapshot.data) });
      this.checker.entriesWritten(node.id, node.disk.append(rd.entries));
      if (rd.hardState) {
        this.checker.hardStateWritten(node.id, node.disk.hardState, rd.hardState);
        node.disk.hardState = rd.hardState;
        const status = raft.status();
        const asLeader = status.role === 'leader' ? status.term : undefined;
        this.checker.committedTo(node.id, node.disk, rd.hardState.commit, asLeader);
      }
      // A crash after the disk, before the network: persisted, nothing sent.
      if (this.chaos() && this.rng.chance(0.002 * this.intensity)) return this.crash(node);
      if (rd.softState?.role === 'leader') {
        this.report.leaders++;
        this.checker.becameLeader(node.id, raft.status().term, node.disk);
      }
      for (const message of rd.messages) this.network.send(message, this.now);
      if (rd.snapshot) {
        node.applied = rd.snapshot.index;
        node.chain = decodeChain(rd.snapshot.data);
        this.checker.applied(node.id, node.applied, node.chain);
        this.options.machine?.restore(node.id, machineData(rd.snapshot.data), node.applied, false);
      }
      for (const entry of rd.committed) {
        if (entry.index !== node.applied + 1) {
          this.checker.fail(`${node.id} applied ${entry.index} after ${node.applied}`);
        }
        node.chain = chainWith(node.chain, entry);
        node.applied = entry.index;
        this.checker.applied(node.id, entry.index, node.chain);
        this.options.machine?.apply(node.id, entry);
      }
      for (const read of rd.readStates) this.checker.readConfirmed(node.id, read.requestId, read.index);
      raft.advance();
      this.maybeCompact(node, raft);
    }
  }

  private maybeCompact(node: SimNode, raft: Raft): void {
    if (node.applied - node.disk.offset() < 8 + this.rng.int(24)) return;
    if (node.disk.chainAt(node.applied) !== node.chain) {
      this.checker.fail(`${node.id}'s state machine disagrees with its log at ${node.applied}`);
    }
    const machine = this.options.machine;
    const data = machine ? Buffer.concat([encodeChain(node.chain), machine.snapshot(node.id)]) : undefined;
    const snapshot: Snapshot = raft.compact(node.applied, data ?? encodeChain(node.chain));
    node.disk.compact({ ...snapshot, chain: node.chain });
  }

  // ---- what clients do --------------------------------------------------------------------------------

  private propose(): void {
    const leader = this.pickLeader();
    if (leader?.raft === undefined) return;
    const count = 1 + this.rng.int(3);
    const data = Array.from({ length: count }, () => {
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setUint32(0, ++this.proposals);
      return bytes;
    });
    this.attempt(() => leader.raft?.propose(data));
  }

  private askRead(): void {
    const leader = this.pickLeader();
    if (leader?.raft === undefined) return;
    const requestId = ++this.requestIds;
    this.checker.readAsked(requestId);
    this.attempt(() => leader.raft?.readIndex(requestId));
  }

  /** A node that believes it leads (there may be a stale one too: proposals to it must not commit). */
  private pickLeader(): SimNode | undefined {
    const leaders = this.liveNodes().filter((node) => node.raft?.status().role === 'leader');
    return leaders.length === 0 ? undefined : this.rng.pick(leaders);
  }

  /** Client calls that the core may refuse (NOT_LEADER, a change in progress): refusals are fine. */
  private attempt(call: () => unknown): boolean {
    try {
      call();
      return true;
    } catch (error) {
      if (TidemarkError.is(error)) return false;
      throw error;
    }
  }

  // ---- faults -------------------------------------------------------------------------------------------

  private injectFault(): void {
    const roll = this.rng.next() / this.intensity;
    const live = this.liveNodes();
    if (roll < 0.006 && live.length > 0) {
      this.crash(this.rng.pick(live));
    } else if (roll < 0.02) {
      const down = [...this.nodes.values()].filter((node) => !node.retired && node.raft === undefined);
      if (down.length > 0) this.restart(this.rng.pick(down));
    } else if (roll < 0.03) {
      this.partitionSomehow();
    } else if (roll < 0.04) {
      this.network.heal();
    }
  }

  private partitionSomehow(): void {
    const ids = [...this.nodes.values()].filter((node) => !node.retired).map((node) => node.id);
    const leader = this.pickLeader()?.id ?? this.rng.pick(ids);
    const others = ids.filter((id) => id !== leader);
    switch (this.rng.int(5)) {
      case 0: {
        // symmetric split into two random halves
        const shuffled = this.rng.shuffle([...ids]);
        const cut = 1 + this.rng.int(ids.length - 1);
        this.network.partition(shuffled.slice(0, cut), shuffled.slice(cut));
        return;
      }
      case 1:
        // the leader isolated
        this.network.partition([leader], others);
        return;
      case 2:
        // one node isolated
        this.network.partition([this.rng.pick(ids)], ids);
        return;
      case 3: {
        // asymmetric: one node hears the others, they do not hear it
        const node = this.rng.pick(ids);
        for (const other of ids) if (other !== node) this.network.cutLink(node, other);
        return;
      }
      default: {
        // KIP-996: a node reaches some peers, but not the leader
        if (others.length === 0) return;
        const node = this.rng.pick(others);
        this.network.partition([node], [leader]);
        return;
      }
    }
  }

  private crash(node: SimNode): void {
    if (node.raft === undefined) return;
    node.raft = undefined;
    this.report.crashes++;
  }

  private restart(node: SimNode): void {
    const { disk } = node;
    node.raft = new Raft({
      id: node.id,
      initial: {
        hardState: disk.hardState,
        snapshot: disk.snapshot,
        entries: disk.entries.slice(),
        bootstrap: node.bootstrap,
      },
      electionTicks: this.electionTicks,
      heartbeatTicks: 1,
      random: node.random,
      maxMessageBytes: this.maxMessageBytes,
      maxInflight: this.maxInflight,
      maxUncommittedEntries: 64,
    });
    // The state machine is rebuilt from the snapshot; the core hands the committed entries after it again.
    node.applied = disk.snapshot?.index ?? 0;
    node.chain = disk.snapshot?.chain ?? 0;
    const data = disk.snapshot === undefined ? undefined : machineData(disk.snapshot.data);
    this.options.machine?.restore(node.id, data, node.applied, true);
  }

  // ---- membership -------------------------------------------------------------------------------------

  private changeMembership(): void {
    const roll = this.rng.next() * 0.4;
    if (roll > 0.02) return;
    const leader = this.pickLeader();
    const raft = leader?.raft;
    if (raft === undefined) return;
    const { voters, learners } = raft.status().membership;
    if (roll < 0.005) {
      const id = `n${this.nextNodeNumber}`;
      if (this.attempt(() => raft.proposeConfigChange({ type: 'addLearner', node: id, address: '' }))) {
        this.nextNodeNumber++;
        this.addNode(id, { voters: [], learners: [] });
        this.report.configChanges++;
      }
    } else if (roll < 0.01 && learners.length > 0) {
      const id = this.rng.pick(learners);
      if (this.attempt(() => raft.proposeConfigChange({ type: 'promote', node: id })))
        this.report.configChanges++;
    } else if (roll < 0.013 && voters.length > 3) {
      const id = this.rng.pick(voters);
      if (this.attempt(() => raft.proposeConfigChange({ type: 'remove', node: id })))
        this.report.configChanges++;
    } else if (roll < 0.015 && voters.length > 3) {
      // A wiped disk: the node is gone for good; its place is taken by a new identity added later.
      const id = this.rng.pick(voters.filter((voter) => voter !== leader?.id));
      const node = this.nodes.get(id);
      if (node && this.attempt(() => raft.proposeConfigChange({ type: 'remove', node: id }))) {
        this.crash(node);
        node.retired = true;
        this.network.forget(id);
        this.report.configChanges++;
      }
    } else if (voters.length > 1) {
      const to = this.rng.pick(voters);
      this.attempt(() => raft.transferLeadership(to));
    }
  }

  private addNode(id: NodeId, bootstrap: Membership): void {
    const seed = Math.floor(this.rng.next() * 2 ** 32);
    const node = new SimNode(id, bootstrap, () => nodeRng.next());
    const nodeRng = new Prng(seed);
    this.nodes.set(id, node);
    this.restart(node);
  }

  /** Faults are on, and the quiet phase has not begun. */
  private chaos(): boolean {
    return this.options.faults === true && !this.calm;
  }

  private liveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((node) => node.raft !== undefined);
  }

  // ---- liveness -----------------------------------------------------------------------------------------

  /**
   * The network heals and stays calm, every node that is not retired runs — except, without membership
   * changes, a random minority of voters left down or cut off: within a bound a leader must be elected and a
   * proposal must commit and be applied on every connected voter.
   */
  private checkLiveness(): void {
    this.calm = true;
    this.network.heal();
    this.network.faults = { drop: 0, duplicate: 0, maxDelay: 2 };
    for (const node of this.nodes.values()) if (!node.retired && node.raft === undefined) this.restart(node);
    // Without membership changes the voters are known for sure: a minority of them may stay cut off (or
    // down) while the majority must still make progress.
    if (!this.options.membership) {
      const ids = [...this.nodes.keys()];
      const minority = this.rng
        .shuffle([...ids])
        .slice(0, this.rng.int(Math.floor((ids.length - 1) / 2) + 1));
      for (const id of minority) {
        this.isolated.add(id);
        if (this.rng.chance(0.5)) this.crash(this.nodes.get(id) as SimNode);
        else this.network.partition([id], ids);
      }
    }
    const bound = 60 * this.electionTicks;
    const start = this.now;
    let marker: { index: number; term: number } | undefined;
    while (this.now - start < bound) {
      this.step();
      const leader = this.pickLeader();
      // A marker proposed to a leader that lost its post may be gone: propose again to the new one.
      if (leader?.raft && (marker === undefined || leader.raft.status().term !== marker.term)) {
        const raft = leader.raft;
        this.attempt(() => (marker = raft.propose([new Uint8Array([0xff])])));
      }
      if (marker !== undefined && this.appliedEverywhere(marker)) return;
    }
    throw new Violation(
      `liveness: ${marker === undefined ? 'no leader elected' : `entry ${marker.index} not applied by every voter`} ` +
        `within ${bound} steps of calm (seed ${this.options.seed})\n${this.describe()}`,
    );
  }

  /** Every node's view, for a failure message. */
  describe(): string {
    return [...this.nodes.values()]
      .map((node) => {
        if (node.retired) return `${node.id}: retired`;
        const status = node.raft?.status();
        if (status === undefined) return `${node.id}: down`;
        const progress = [...status.progress]
          .map(([id, pr]) => `${id}:${pr.state}/${pr.match}/${pr.next}${pr.recentActive ? '' : '(inactive)'}`)
          .join(' ');
        return (
          `${node.id}: ${status.role} term ${status.term} leader ${status.leader || '-'} commit ${status.commit} ` +
          `applied ${node.applied} last ${status.lastIndex} snap ${status.snapshotIndex} ` +
          `voters ${status.membership.voters.join(',')} learners ${status.membership.learners.join(',')} ${progress}`
        );
      })
      .join('\n');
  }

  private appliedEverywhere(marker: { index: number; term: number }): boolean {
    const leader = this.pickLeader();
    const status = leader?.raft?.status();
    if (status === undefined) return false;
    return status.membership.voters.every((id) => {
      const node = this.nodes.get(id);
      return node === undefined || node.retired || this.isolated.has(id) || node.applied >= marker.index;
    });
  }
}
