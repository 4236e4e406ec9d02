import { systemClock, type Clock, type Timer } from '../../lib/clock';
import { quoteInput, TidemarkError } from '../../lib/errors';
import { silentLogger, type Logger } from '../../lib/logger';
import {
  decodeConfigRecord,
  isVoter,
  Raft,
  type ConfigChange,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Ready,
  type Role,
} from './core';
import type { RaftLogStore } from './log-store/raft-log-store';
import { MemberAddresses } from './member-addresses';
import { RaftWaiters, type Applied, type Waiter } from './raft-waiters';
import type { ReplicatedStateMachine } from './replicated-state-machine';
import type { RaftTransport } from './transport/raft-transport';

export interface RaftNodeOptions {
  readonly id: NodeId;
  /**
   * The cluster as configured: member → Raft address, this node included. On a first start with an empty
   * store these are the voters (every node must be given the same list); later the replicated membership
   * rules. One member: a one-voter cluster that elects itself at once.
   */
  readonly initialMembers: ReadonlyMap<NodeId, string>;
  /** A node being added to a running cluster: no voters of its own; it waits to be told the membership. */
  readonly join?: boolean;
  readonly electionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** A member not heard from for this long is reported unreachable. */
  readonly partitionToleranceMs: number;
  /** A proposal not applied within this long fails COORDINATION_UNAVAILABLE (it may still commit). */
  readonly proposalTimeoutMs?: number;
  /** Applied entries between snapshots of the state machine. */
  readonly snapshotEvery?: number;
  readonly store: RaftLogStore;
  /** Absent for a cluster of one that never grows. */
  readonly transport?: RaftTransport;
  readonly stateMachine: ReplicatedStateMachine;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Election jitter (default Math.random); a seeded one makes a test replayable. */
  readonly random?: () => number;
}

export type { Applied } from './raft-waiters';

export interface MemberStatus {
  readonly id: NodeId;
  readonly address: string | undefined;
  readonly voter: boolean;
  /** On the leader: the last index known to match the leader's log, and what it sends next. */
  readonly match: number | undefined;
  readonly next: number | undefined;
  /** On the leader: entries the member lacks. */
  readonly lag: number | undefined;
  /** Ms since a message from it arrived (undefined: never, or itself). */
  readonly lastContactMs: number | undefined;
  /**
   * Heard from within the partition tolerance. On a follower only the leader (and itself) can be judged:
   * undefined for the others.
   */
  readonly reachable: boolean | undefined;
}

export interface RaftNodeStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly leader: NodeId;
  readonly leaderAddress: string | undefined;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly members: readonly MemberStatus[];
  /** Ms since a leader's append, heartbeat or snapshot arrived (0 on the leader itself). */
  readonly sinceLeaderMs: number;
  /** A member not heard from for this long is unreachable; a node that hears no leader this long is cut off. */
  readonly partitionToleranceMs: number;
  /** The node stopped: its store failed (see `failure`), or it was closed. */
  readonly failure: string | undefined;
}

interface PendingProposal {
  readonly data: Uint8Array;
  readonly settle: Waiter;
}

/**
 * The driver around the Raft core: it owns the timers and serialises everything the node handles — ticks,
 * messages, proposals, reads — into one loop that takes a Ready, persists it (the store fsyncs before it
 * answers), only then sends its messages, applies what is committed and answers the proposers, then
 * advances. Proposals queued while the disk works go into the next Ready together (group commit).
 */
export class RaftNode {
  private readonly raft: Raft;
  private readonly addresses: MemberAddresses;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly lastContact = new Map<NodeId, number>();
  /** When a leader last spoke to this node (monotonic ms): how a follower knows it is cut off. */
  private leaderSeenAt: number;
  private readonly waiters: RaftWaiters;
  private inbox: Message[] = [];
  private ticks = 0;
  private proposals: PendingProposal[] = [];
  private submitted: Uint8Array[] = [];
  private changes: { change: ConfigChange; settle: Waiter }[] = [];
  private transfers: NodeId[] = [];
  private driving = false;
  private ticker: Timer | undefined;
  private failure: TidemarkError | undefined;
  private requestIds = 0;
  private appliedIndex: number;
  private snapshotIndex: number;
  /** The hard state last saved, and a newer one (a commit index alone) not saved yet. */
  private savedHardState: HardState;
  private unsavedHardState: HardState | undefined;
  private readonly snapshotEvery: number;
  private readonly leadershipListeners: ((role: Role, term: number) => void)[] = [];
  private idle: (() => void)[] = [];
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly options: RaftNodeOptions,
    raft: Raft,
    addresses: MemberAddresses,
    applied: number,
    savedHardState: HardState,
  ) {
    this.savedHardState = savedHardState;
    this.raft = raft;
    this.addresses = addresses;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.appliedIndex = applied;
    this.snapshotIndex = applied;
    this.leaderSeenAt = this.clock.monotonic();
    this.snapshotEvery = options.snapshotEvery ?? 10_000;
    this.waiters = new RaftWaiters(this.clock, options.proposalTimeoutMs ?? 10 * options.electionTimeoutMs);
  }

  /** Loads the store and restores the state machine from the newest snapshot; `start()` sets it going. */
  static async open(options: RaftNodeOptions): Promise<RaftNode> {
    if (!(options.heartbeatIntervalMs > 0 && options.electionTimeoutMs >= 2 * options.heartbeatIntervalMs)) {
      throw new TidemarkError(
        'CONFIG_INVALID',
        'the election timeout must be at least twice the heartbeat interval (both > 0)',
      );
    }
    if (!options.join && !options.initialMembers.has(options.id)) {
      throw new TidemarkError('CONFIG_INVALID', `node ${options.id} is not among the cluster's members`);
    }
    const stored = await options.store.load();
    const addresses = new MemberAddresses(options.initialMembers);
    try {
      if (stored.snapshot) options.stateMachine.restore(addresses.restoreFrom(stored.snapshot.data));
    } catch (error) {
      await options.store.close();
      throw error;
    }
    const raft = new Raft({
      id: options.id,
      initial: {
        hardState: stored.hardState,
        snapshot: stored.snapshot,
        entries: stored.entries,
        bootstrap: options.join
          ? { voters: [], learners: [] }
          : { voters: [...options.initialMembers.keys()], learners: [] },
      },
      electionTicks: Math.max(2, Math.round(options.electionTimeoutMs / options.heartbeatIntervalMs)),
      heartbeatTicks: 1,
      random: options.random ?? Math.random,
    });
    return new RaftNode(options, raft, addresses, stored.snapshot?.index ?? 0, stored.hardState);
  }

  /** Starts listening and ticking; a node that is the cluster's only voter takes the lead at once. */
  async start(): Promise<void> {
    this.mustBeRunning();
    if (this.ticker) return;
    await this.options.transport?.start((messages) => this.receive(messages));
    // Closed (or failed) while the listener was starting: close() may have found it not listening yet.
    if (this.failure) {
      await this.options.transport?.close();
      throw this.failure;
    }
    this.options.transport?.setPeers(this.peers());
    this.leaderSeenAt = this.clock.monotonic();
    this.ticker = this.clock
      .setInterval(() => {
        this.ticks++;
        this.drive();
      }, this.options.heartbeatIntervalMs)
      .unref();
    const { voters } = this.raft.status().membership;
    if (voters.length === 1 && voters[0] === this.options.id) this.raft.campaign();
    this.drive();
    // A cluster of one leads, with its no-op applied, by the time start() returns.
    await this.whenIdle();
  }

  // ---- what callers do ---------------------------------------------------------------------------------

  /**
   * Replicates `command`; resolves with the state machine's result once it is committed and applied here.
   * NOT_LEADER (with the leader's id and address) on a follower; COORDINATION_UNAVAILABLE if it was not
   * applied in time (it may still commit) or was overwritten by another leader's entry (it did not).
   */
  propose<T = unknown>(command: Uint8Array): Promise<Applied<T>> {
    if (command.length === 0) {
      return Promise.reject(new TidemarkError('INVALID_ARGUMENT', 'a raft command cannot be empty'));
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Applied<T>>((resolve, reject) => {
      this.proposals.push({
        data: command,
        settle: this.waiters.create(resolve as (a: Applied) => void, reject),
      });
      this.drive();
    });
  }

  /**
   * Hands `command` to whoever leads, without waiting for it (etcd's proposal forwarding): appended here
   * on the leader, sent to the leader from a follower. Nothing answers: the caller watches the state
   * machine for the effect and submits again if it does not come (the command must be idempotent).
   * Dropped when no leader is known; refused only on a stopped node.
   */
  submit(command: Uint8Array): void {
    if (command.length === 0) throw new TidemarkError('INVALID_ARGUMENT', 'a raft command cannot be empty');
    this.mustBeRunning();
    this.submitted.push(command);
    this.drive();
  }

  /**
   * A linearizable read barrier (ReadIndex): resolves once this node, still the leader when a majority said
   * so, has applied everything committed when the read was asked. Then the state machine may be read.
   */
  readBarrier(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const requestId = ++this.requestIds;
      const settle = this.waiters.create(() => resolve(), reject);
      try {
        this.mustBeRunning();
        this.raft.readIndex(requestId);
        this.waiters.awaitRead(requestId, settle);
        this.drive();
      } catch (error) {
        this.waiters.refuse(settle, this.withLeaderAddress(error));
      }
    });
  }

  /** Adds a node as a learner: it receives the log (a snapshot if far behind) but does not vote yet. */
  addLearner(node: NodeId, address: string): Promise<Applied> {
    return this.changeMembership({ type: 'addLearner', node, address });
  }

  /** Makes a caught-up learner a voter. */
  promote(node: NodeId): Promise<Applied> {
    return this.changeMembership({ type: 'promote', node });
  }

  removeMember(node: NodeId): Promise<Applied> {
    return this.changeMembership({ type: 'remove', node });
  }

  /** Asks the leader (this node) to hand over to `to`; the result shows in status() once done. */
  transferLeadership(to: NodeId): void {
    this.mustBeRunning();
    const status = this.raft.status();
    if (status.role !== 'leader') throw this.notLeader('transfer leadership');
    if (!isVoter(status.membership, to))
      throw new TidemarkError('INVALID_ARGUMENT', `${quoteInput(to)} is not a voter`);
    this.transfers.push(to);
    this.drive();
  }

  /** Whether this node leads now (cheap; status() says more). */
  isLeader(): boolean {
    return !this.failure && this.raft.isLeader();
  }

  /** Called with the node's role whenever it changes (leadership won or lost). */
  onRoleChange(listener: (role: Role, term: number) => void): void {
    this.leadershipListeners.push(listener);
  }

  status(): RaftNodeStatus {
    const core = this.raft.status();
    const now = this.clock.monotonic();
    const ids = [...core.membership.voters, ...core.membership.learners];
    const members = ids.map((id): MemberStatus => {
      const progress = core.progress.get(id);
      const contact = this.lastContact.get(id);
      const lastContactMs =
        id === this.options.id || contact === undefined ? undefined : Math.round(now - contact);
      return {
        id,
        address: this.addresses.get(id),
        voter: core.membership.voters.includes(id),
        match: progress?.match,
        next: progress?.next,
        lag: progress === undefined ? undefined : Math.max(0, core.lastIndex - progress.match),
        lastContactMs,
        // A follower hears only from the leader: of the others it cannot tell.
        reachable:
          id === this.options.id
            ? true
            : core.role !== 'leader' && id !== core.leader
              ? undefined
              : lastContactMs !== undefined && lastContactMs <= this.options.partitionToleranceMs,
      };
    });
    return {
      id: this.options.id,
      role: core.role,
      leader: core.leader,
      leaderAddress: core.leader === '' ? undefined : this.addresses.get(core.leader),
      term: core.term,
      commitIndex: core.commit,
      appliedIndex: this.appliedIndex,
      lastIndex: core.lastIndex,
      snapshotIndex: core.snapshotIndex,
      members,
      sinceLeaderMs: core.role === 'leader' ? 0 : Math.round(now - this.leaderSeenAt),
      partitionToleranceMs: this.options.partitionToleranceMs,
      failure: this.failure?.message,
    };
  }

  /** Stops ticking and listening; what waits fails CLOSED; the store is closed too. Every call waits for the one close. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    this.ticker?.cancel();
    this.stop(new TidemarkError('CLOSED', 'the raft node is closed'));
    await this.whenIdle();
    try {
      await this.options.transport?.close();
      // The commit index a clean stop knew, so a restart applies as far without waiting for a leader.
      const hardState = this.unsavedHardState;
      if (hardState !== undefined && this.failure?.code === 'CLOSED') {
        await this.options.store.save({ hardState, entries: [] }).catch((error: unknown) => {
          this.logger.warn({ err: error }, 'raft: the commit index was not saved at close');
        });
      }
    } finally {
      await this.options.store.close();
    }
  }

  // ---- the loop ----------------------------------------------------------------------------------------

  private receive(messages: Message[]): void {
    // A stopped node takes nothing in: its inbox would only grow.
    if (this.failure) return;
    const now = this.clock.monotonic();
    for (const message of messages) {
      this.lastContact.set(message.from, now);
      // Only a leader sends these.
      if (message.type === 'append' || message.type === 'heartbeat' || message.type === 'snapshot') {
        this.leaderSeenAt = now;
      }
      this.inbox.push(message);
    }
    this.drive();
  }

  /** Runs the loop unless it runs already (it picks up what was queued meanwhile). */
  private drive(): void {
    if (this.driving || this.failure) return;
    this.driving = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        if (this.failure) break;
        this.feedCore();
        if (!this.raft.hasReady()) break;
        await this.handle(this.raft.ready());
      }
    } catch (error) {
      this.stop(
        TidemarkError.is(error)
          ? error
          : new TidemarkError('INTERNAL', `the raft node stopped: ${String(error)}`, { cause: error }),
      );
      this.logger.error({ err: error }, 'the raft node stopped');
    } finally {
      this.driving = false;
      const idle = this.idle;
      this.idle = [];
      for (const resolve of idle) resolve();
    }
    if (!this.failure && this.hasQueued()) this.drive();
  }

  private hasQueued(): boolean {
    return (
      this.inbox.length > 0 ||
      this.ticks > 0 ||
      this.proposals.length > 0 ||
      this.submitted.length > 0 ||
      this.changes.length > 0 ||
      this.transfers.length > 0
    );
  }

  /** Everything queued since the last Ready goes into the core, in arrival order per kind. */
  private feedCore(): void {
    // Messages that waited during a slow save first: the answers a leader's check-quorum counts on, the
    // append that spares a follower an election. Then the time that passed.
    const inbox = this.inbox;
    this.inbox = [];
    for (const message of inbox) this.raft.step(message);
    for (; this.ticks > 0; this.ticks--) this.raft.tick();
    this.proposeQueued();
    this.forwardSubmitted();
    const changes = this.changes;
    this.changes = [];
    for (const { change, settle } of changes) {
      try {
        const { index, term } = this.raft.proposeConfigChange(change);
        this.waiters.awaitEntry(index, term, settle);
      } catch (error) {
        this.waiters.refuse(settle, this.withLeaderAddress(error));
      }
    }
    const transfers = this.transfers;
    this.transfers = [];
    for (const to of transfers) {
      try {
        this.raft.transferLeadership(to);
      } catch (error) {
        this.logger.warn({ err: error, to }, 'leadership transfer refused');
      }
    }
  }

  private proposeQueued(): void {
    const proposals = this.proposals;
    if (proposals.length === 0) return;
    this.proposals = [];
    try {
      const { index, term } = this.raft.propose(proposals.map((p) => p.data));
      const first = index - proposals.length + 1;
      proposals.forEach((p, i) => this.waiters.awaitEntry(first + i, term, p.settle));
    } catch (error) {
      const refusal = this.withLeaderAddress(error);
      for (const p of proposals) this.waiters.refuse(p.settle, refusal);
    }
  }

  private forwardSubmitted(): void {
    const submitted = this.submitted;
    if (submitted.length === 0) return;
    this.submitted = [];
    try {
      this.raft.proposeAnywhere(submitted);
    } catch (error) {
      // No leader known (an election), or the leader is busy: the submitter sends again.
      this.logger.debug({ err: error, commands: submitted.length }, 'raft: submitted commands dropped');
    }
  }

  private async handle(rd: Ready): Promise<void> {
    // A leader's appends and heartbeats go out while its own disk writes (Raft thesis §10.2.1, as etcd):
    // the leader counts its own copy only once persisted (advance), so nothing commits on a copy it lacks.
    let messages = rd.messages;
    if (messages.length > 0 && this.raft.isLeader()) {
      const early = messages.filter((m) => m.type === 'append' || m.type === 'heartbeat');
      if (early.length > 0) {
        this.options.transport?.send(early);
        messages = messages.filter((m) => m.type !== 'append' && m.type !== 'heartbeat');
      }
    }
    // Entries entering the log, committed or not, durable or not yet: the state machine may start work
    // early (never decide on it) — while the disk writes.
    if (this.options.stateMachine.observe !== undefined) {
      for (const entry of rd.entries) {
        if (entry.kind === 'normal' && entry.data.length > 0) {
          this.options.stateMachine.observe(entry.data, entry.index, entry.term);
        }
      }
    }
    // 1. Durable first: no other message that depends on this Ready may leave before.
    await this.persist(rd);
    // 2. Then the network.
    if (messages.length > 0) this.options.transport?.send(messages);
    // 3. Then the state machine, and whoever waits on it.
    if (rd.snapshot) {
      this.options.stateMachine.restore(this.addresses.restoreFrom(rd.snapshot.data));
      this.appliedIndex = rd.snapshot.index;
      this.snapshotIndex = rd.snapshot.index;
      this.options.transport?.setPeers(this.peers());
      this.waiters.failUpTo(rd.snapshot.index);
    }
    for (const entry of rd.committed) this.apply(entry);
    for (const read of rd.readStates) this.waiters.readIndexKnown(read.requestId, read.index);
    this.waiters.serveReads(this.appliedIndex);
    if (rd.softState) this.roleChanged(rd.softState.role);
    this.raft.advance();
    await this.maybeSnapshot();
  }

  /**
   * Saves what the store must hold before anyone hears of this Ready. A new commit index alone is not
   * written (etcd writes it without an fsync; we skip the write, and a wait behind the disk): it goes with
   * the next save, or at close. Lost in a crash, it is learnt again from the leader — the entries it
   * covers are durable on a majority already.
   */
  private async persist(rd: Ready): Promise<void> {
    const hardState = rd.hardState ?? this.unsavedHardState;
    const termOrVote =
      hardState !== undefined &&
      (hardState.term !== this.savedHardState.term || hardState.vote !== this.savedHardState.vote);
    if (rd.snapshot === undefined && rd.entries.length === 0 && !termOrVote) {
      this.unsavedHardState = hardState;
      return;
    }
    await this.options.store.save({ hardState, snapshot: rd.snapshot, entries: rd.entries });
    if (hardState !== undefined) this.savedHardState = hardState;
    this.unsavedHardState = undefined;
  }

  private apply(entry: Entry): void {
    let result: unknown;
    if (entry.kind === 'config') {
      this.addresses.apply(decodeConfigRecord(entry.data));
      this.options.transport?.setPeers(this.peers());
    } else if (entry.data.length > 0) {
      result = this.options.stateMachine.apply(entry.data, entry.index, entry.term);
    }
    this.appliedIndex = entry.index;
    this.waiters.applied(entry.index, entry.term, result);
  }

  private roleChanged(role: Role): void {
    const { term } = this.raft.status();
    this.logger.info({ role, term, leader: this.raft.status().leader }, `raft: ${role} in term ${term}`);
    if (role !== 'leader') {
      // Reads the old leadership took cannot be confirmed any more.
      this.waiters.failPendingReads(this.notLeader('serve a linearizable read'));
    }
    for (const listener of this.leadershipListeners) listener(role, term);
  }

  private async maybeSnapshot(): Promise<void> {
    if (this.appliedIndex - this.snapshotIndex < this.snapshotEvery) return;
    const data = this.addresses.encodeWith(this.options.stateMachine.snapshot());
    const snapshot = this.raft.compact(this.appliedIndex, data);
    await this.options.store.compact(snapshot);
    this.snapshotIndex = snapshot.index;
  }

  // ---- helpers -----------------------------------------------------------------------------------------

  private changeMembership(change: ConfigChange): Promise<Applied> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.options.transport === undefined) {
      return Promise.reject(
        new TidemarkError(
          'INVALID_ARGUMENT',
          'this node runs without a Raft transport (no cluster.endpoints): its membership cannot change',
        ),
      );
    }
    return new Promise<Applied>((resolve, reject) => {
      this.changes.push({ change, settle: this.waiters.create(resolve, reject) });
      this.drive();
    });
  }

  private stop(reason: TidemarkError): void {
    if (this.failure) return;
    this.failure = reason;
    this.ticker?.cancel();
    const held = [...this.proposals.map((p) => p.settle), ...this.changes.map((c) => c.settle)];
    this.proposals = [];
    this.submitted = [];
    this.changes = [];
    this.inbox = [];
    this.waiters.failAll(reason, held);
    // A node that cannot persist must not keep answering its peers (nor hoard what they send).
    if (reason.code !== 'CLOSED') {
      this.options.transport?.close().catch((error: unknown) => {
        this.logger.warn({ err: error }, 'raft transport did not close cleanly');
      });
    }
  }

  private whenIdle(): Promise<void> {
    if (!this.driving) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private mustBeRunning(): void {
    if (this.failure) throw this.failure;
  }

  private peers(): Map<NodeId, string> {
    const peers = new Map(this.addresses.all());
    peers.delete(this.options.id);
    return peers;
  }

  private notLeader(what: string): TidemarkError {
    const { leader } = this.raft.status();
    return this.withLeaderAddress(
      new TidemarkError(
        'NOT_LEADER',
        `raft: cannot ${what}: ${leader === '' ? 'no leader is known' : `${leader} leads`}`,
        {
          details: { leader },
        },
      ),
    ) as TidemarkError;
  }

  /** A NOT_LEADER refusal names the leader's address too, so a client can go there. */
  private withLeaderAddress(error: unknown): unknown {
    if (!TidemarkError.is(error, 'NOT_LEADER')) return error;
    // The core names the leader to go to (a transfer's target, say); else whom this node follows.
    const named = error.details.leader;
    const leader = typeof named === 'string' && named !== '' ? named : this.raft.status().leader;
    const leaderAddress = leader === '' ? undefined : this.addresses.get(leader);
    return new TidemarkError('NOT_LEADER', error.message, { details: { leader, leaderAddress } });
  }
}
