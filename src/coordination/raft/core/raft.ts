import { quoteInput, TidemarkError } from '../../../lib/errors';
import { applyChange, encodeConfigRecord, isMember, isVoter, members } from './membership';
import { Progress } from './progress';
import { committedIndex, tally } from './quorum';
import { RaftLog } from './raft-log';
import { ReadIndexQueue } from './read-index-queue';
import {
  message,
  type ConfigChange,
  type Entry,
  type HardState,
  type InitialState,
  type Membership,
  type Message,
  type NodeId,
  type ReadState,
  type Ready,
  type Role,
  type Snapshot,
  type SoftState,
} from './types';

export interface RaftOptions {
  readonly id: NodeId;
  readonly initial: InitialState;
  /** Ticks without a leader's word before a follower campaigns (randomised in [n, 2n)). */
  readonly electionTicks: number;
  /** Ticks between a leader's heartbeats; less than electionTicks. */
  readonly heartbeatTicks: number;
  /** A uniform random number in [0, 1): seeded by the caller, the core's only source of chance. */
  readonly random: () => number;
  /** Pre-vote (§9.6): a node asks before it raises its term, so a rejoining node cannot depose a leader. */
  readonly preVote?: boolean;
  /** A leader that has not heard from a majority within an election timeout steps down. */
  readonly checkQuorum?: boolean;
  /** Unacknowledged appends in flight per follower (pipelining). */
  readonly maxInflight?: number;
  /** Bytes of entry data per append message. */
  readonly maxMessageBytes?: number;
  /**
   * Proposals a leader holds uncommitted before it refuses more (flow control, etcd's
   * MaxUncommittedEntriesSize): without a majority the log would otherwise grow without bound.
   */
  readonly maxUncommittedEntries?: number;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly leader: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly membership: Membership;
  readonly leadTransferee: NodeId;
  /** Per member, on a leader only. */
  readonly progress: ReadonlyMap<
    NodeId,
    { match: number; next: number; state: string; recentActive: boolean }
  >;
}

/**
 * The Raft consensus core, after etcd's raft: a state machine that does no I/O, reads no clock and draws no
 * random number of its own. The driver ticks it, steps it with messages, proposes, and takes `ready()`:
 * what to persist, then send, then apply; then `advance()`. Everything here is synchronous and replayable:
 * the same options, seed and calls give the same result.
 */
export class Raft {
  readonly id: NodeId;
  private readonly log: RaftLog;
  private term: number;
  private vote: NodeId;
  private leader: NodeId = '';
  private role: Role = 'follower';
  private readonly electionTicks: number;
  private readonly heartbeatTicks: number;
  private readonly random: () => number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly maxInflight: number;
  private readonly maxMessageBytes: number;
  private readonly maxUncommittedEntries: number;
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private votes = new Map<NodeId, boolean>();
  private progress = new Map<NodeId, Progress>();
  /** A config entry not yet committed (a leader proposes the next change only after it). */
  private pendingConfigIndex = 0;
  private leadTransferee: NodeId = '';
  private readonly reads = new ReadIndexQueue();
  private earlyReads: number[] = [];
  private outbox: Message[] = [];
  private readStates: ReadState[] = [];
  private prevSoft: SoftState;
  private prevHard: HardState;
  private readyOut = false;

  constructor(options: RaftOptions) {
    if (!(options.heartbeatTicks > 0 && options.electionTicks > options.heartbeatTicks)) {
      throw new TidemarkError(
        'INVALID_ARGUMENT',
        'raft: electionTicks must be larger than heartbeatTicks > 0',
      );
    }
    this.id = options.id;
    this.electionTicks = options.electionTicks;
    this.heartbeatTicks = options.heartbeatTicks;
    this.random = options.random;
    this.preVote = options.preVote ?? true;
    this.checkQuorum = options.checkQuorum ?? true;
    this.maxInflight = options.maxInflight ?? 256;
    this.maxMessageBytes = options.maxMessageBytes ?? 1024 * 1024;
    this.maxUncommittedEntries = options.maxUncommittedEntries ?? 65_536;
    const { hardState, snapshot, entries, bootstrap } = options.initial;
    this.log = new RaftLog(snapshot, entries, hardState.commit, bootstrap);
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.prevHard = { term: this.term, vote: this.vote, commit: this.log.committed };
    this.prevSoft = { leader: '', role: 'follower' };
    this.resetElectionTimeout();
  }

  // ---- the driver's calls -------------------------------------------------------------------------

  /** One unit of logical time. */
  tick(): void {
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  /**
   * Appends `data` (one entry each) to the leader's log. Returns the index and term of the last one: the
   * driver knows it is committed when it applies that index with that term. NOT_LEADER on a follower.
   */
  propose(data: readonly Uint8Array[]): { index: number; term: number } {
    this.mustLead('propose');
    if (this.leadTransferee !== '') {
      throw new TidemarkError('NOT_LEADER', `raft: leadership is moving to ${this.leadTransferee}`, {
        details: { leader: this.leadTransferee },
      });
    }
    const uncommitted = this.log.lastIndex() - this.log.committed;
    if (uncommitted + data.length > this.maxUncommittedEntries) {
      throw new TidemarkError(
        'COORDINATION_UNAVAILABLE',
        `raft: ${uncommitted} proposals wait for a majority already; try again when they commit`,
      );
    }
    const first = this.log.lastIndex() + 1;
    this.appendEntries(
      data.map((bytes, i) => ({ term: this.term, index: first + i, kind: 'normal', data: bytes })),
    );
    return { index: this.log.lastIndex(), term: this.term };
  }

  /**
   * Proposes `data` wherever this node is: on the leader as `propose` does (returning where the last entry
   * went); on a follower that knows its leader, forwarded to it (etcd's MsgProp) and `undefined` — the
   * caller learns the outcome from the state machine, and sends again if it must (a forwarded proposal
   * lost on the way, or dropped by a leader that lost its lead meanwhile, is not answered). NOT_LEADER when
   * no leader is known.
   */
  proposeAnywhere(data: readonly Uint8Array[]): { index: number; term: number } | undefined {
    if (this.role === 'leader') return this.propose(data);
    if (this.leader === '') this.mustLead('propose');
    this.send(
      message({
        type: 'propose',
        from: this.id,
        to: this.leader,
        term: 0,
        entries: data.map((bytes) => ({ term: 0, index: 0, kind: 'normal', data: bytes })),
      }),
    );
    return undefined;
  }

  /**
   * Proposes one membership change. Refused, with nothing changed: INVALID_ARGUMENT when the change does
   * not apply to the membership in force; PRECONDITION_FAILED — try again shortly — while another change is
   * uncommitted, before this leader has committed an entry of its term, during a leadership transfer, or for
   * a learner that has not caught up.
   */
  proposeConfigChange(change: ConfigChange): { index: number; term: number } {
    this.mustLead('change the membership');
    if (this.pendingConfigIndex > this.log.committed) {
      throw new TidemarkError('PRECONDITION_FAILED', 'raft: another membership change is in progress');
    }
    if (this.log.term(this.log.committed) !== this.term) {
      throw new TidemarkError(
        'PRECONDITION_FAILED',
        'raft: the new leader has not committed an entry of its term yet',
      );
    }
    if (this.leadTransferee !== '') {
      throw new TidemarkError('PRECONDITION_FAILED', 'raft: a leadership transfer is in progress');
    }
    const current = this.log.membership();
    const next = applyChange(current, change);
    if (change.type === 'promote') {
      const caughtUp = (this.progress.get(change.node)?.match ?? 0) >= this.log.committed;
      if (!caughtUp) {
        throw new TidemarkError(
          'PRECONDITION_FAILED',
          `raft: learner ${quoteInput(change.node)} has not caught up with the log yet`,
        );
      }
    }
    const index = this.log.lastIndex() + 1;
    this.appendEntries([
      { term: this.term, index, kind: 'config', data: encodeConfigRecord({ change, membership: next }) },
    ]);
    return { index, term: this.term };
  }

  /** Hands leadership to `to` (a voter): it is caught up, then told to campaign at once. */
  transferLeadership(to: NodeId): void {
    this.mustLead('transfer leadership');
    if (to === this.id) return;
    if (!isVoter(this.log.membership(), to)) {
      throw new TidemarkError('INVALID_ARGUMENT', `raft: ${quoteInput(to)} is not a voter`);
    }
    if (this.leadTransferee === to) return;
    this.leadTransferee = to;
    this.electionElapsed = 0;
    const pr = this.progress.get(to) as Progress;
    if (pr.match === this.log.lastIndex())
      this.send(message({ type: 'timeoutNow', from: this.id, to, term: this.term }));
    else this.sendAppend(to);
  }

  /**
   * A linearizable read (ReadIndex, §6.4): once a majority confirms this node still leads, a ReadState
   * with the commit index at the time of the request comes out of ready(); the read is served when the
   * state machine has applied it. `requestId` must rise from call to call.
   */
  readIndex(requestId: number): void {
    this.mustLead('serve a linearizable read');
    const voters = this.log.membership().voters;
    if (voters.length === 1 && voters[0] === this.id) {
      this.readStates.push({ index: this.log.committed, requestId });
      return;
    }
    // Until an entry of this term is committed, the commit index may lag what a previous leader committed:
    // such a read takes its index at that first commit.
    if (this.log.term(this.log.committed) !== this.term) {
      this.earlyReads.push(requestId);
      return;
    }
    this.reads.add(requestId, this.log.committed, this.id);
    this.broadcastHeartbeat(requestId);
  }

  /** A message from another node. Messages of other terms, stale or foreign ones are handled or dropped. */
  step(m: Message): void {
    if (m.to !== this.id) return;
    // A forwarded proposal says nothing about terms: whoever leads now appends it, nobody else.
    if (m.type === 'propose') {
      this.acceptForwarded(m);
      return;
    }
    if (m.term > this.term) {
      if (!this.acceptHigherTerm(m)) return;
    } else if (m.term < this.term) {
      this.answerLowerTerm(m);
      return;
    }
    switch (m.type) {
      case 'preVote':
      case 'vote':
        this.handleVoteRequest(m);
        return;
      default:
        break;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
    }
  }

  /**
   * Starts an election now instead of after the election timeout (etcd's Campaign): a one-voter cluster
   * leads at once. Ignored on a node that cannot vote, and on the leader.
   */
  campaign(): void {
    if (this.role !== 'leader') this.startElection(false);
  }

  /** Whether ready() has anything. */
  hasReady(): boolean {
    if (this.readyOut) return false;
    return (
      this.outbox.length > 0 ||
      this.readStates.length > 0 ||
      this.log.pendingSnapshot !== undefined ||
      this.log.stable < this.log.lastIndex() ||
      this.log.entriesToApply().length > 0 ||
      !sameHard(this.hardState(), this.prevHard) ||
      !sameSoft(this.softState(), this.prevSoft)
    );
  }

  /** What to do now (see Ready). Call advance() once it is done, before the next ready(). */
  ready(): Ready {
    if (this.readyOut) throw new TidemarkError('INTERNAL', 'raft: ready() again before advance()');
    this.readyOut = true;
    const hard = this.hardState();
    const soft = this.softState();
    const rd: Ready = {
      softState: sameSoft(soft, this.prevSoft) ? undefined : soft,
      hardState: sameHard(hard, this.prevHard) ? undefined : hard,
      snapshot: this.log.pendingSnapshot,
      entries: this.log.unstableEntries(),
      messages: this.outbox,
      committed: this.log.entriesToApply(),
      readStates: this.readStates,
    };
    this.outbox = [];
    this.readStates = [];
    this.lastReady = rd;
    return rd;
  }

  private lastReady: Ready | undefined;

  /** The last ready() is done: persisted, sent and applied. */
  advance(): void {
    const rd = this.lastReady;
    if (rd === undefined) throw new TidemarkError('INTERNAL', 'raft: advance() without ready()');
    this.readyOut = false;
    this.lastReady = undefined;
    if (rd.softState) this.prevSoft = rd.softState;
    if (rd.hardState) this.prevHard = rd.hardState;
    if (rd.snapshot) this.log.snapshotApplied(rd.snapshot);
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry) this.log.stableTo(lastEntry.index, lastEntry.term);
    const lastApplied = rd.committed[rd.committed.length - 1];
    if (lastApplied) this.log.appliedTo(lastApplied.index);
    if (this.role === 'leader') {
      // The leader counts its own copy only once it is durable.
      const self = this.progress.get(this.id);
      // Its own copy may complete a majority: followers then learn the commit now, not at the next heartbeat.
      if (self && self.maybeUpdate(this.log.stable) && this.maybeCommit()) this.broadcastAppend();
    }
  }

  /** The node's own snapshot of its state machine at `index` (applied): the log before it is dropped. */
  compact(index: number, data: Uint8Array): Snapshot {
    return this.log.compact(index, data);
  }

  /** Whether this node leads now (cheaper than status() on a hot path). */
  isLeader(): boolean {
    return this.role === 'leader';
  }

  status(): RaftStatus {
    const progress = new Map<NodeId, { match: number; next: number; state: string; recentActive: boolean }>();
    if (this.role === 'leader') {
      for (const [id, pr] of this.progress) {
        progress.set(id, { match: pr.match, next: pr.next, state: pr.state, recentActive: pr.recentActive });
      }
    }
    return {
      id: this.id,
      role: this.role,
      leader: this.leader,
      term: this.term,
      vote: this.vote,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      snapshotIndex: this.log.snapshot?.index ?? 0,
      membership: this.log.membership(),
      leadTransferee: this.leadTransferee,
      progress,
    };
  }

  // ---- time -----------------------------------------------------------------------------------------

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.startElection(false);
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum && !this.quorumActive()) {
        this.becomeFollower(this.term, '');
        return;
      }
      this.leadTransferee = ''; // a transfer that did not finish within an election timeout is abandoned
    }
    for (const pr of this.progress.values()) {
      if (pr.state === 'snapshot' && ++pr.snapshotTicks >= this.electionTicks) pr.becomeProbe();
    }
    if (this.heartbeatElapsed >= this.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat(this.reads.newest());
    }
  }

  private quorumActive(): boolean {
    const active = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) {
      active.set(id, id === this.id || pr.recentActive);
      if (id !== this.id) pr.recentActive = false;
    }
    return tally(this.log.membership().voters, active) === 'won';
  }

  private resetElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTicks + Math.floor(this.random() * this.electionTicks);
  }

  // ---- roles ----------------------------------------------------------------------------------------

  private becomeFollower(term: number, leader: NodeId): void {
    this.reset(term);
    this.role = 'follower';
    this.leader = leader;
  }

  private becomePreCandidate(): void {
    // Neither the term nor the vote changes: a pre-vote costs the cluster nothing if it fails.
    this.role = 'preCandidate';
    this.leader = '';
    this.votes = new Map([[this.id, true]]);
    this.electionElapsed = 0;
    this.resetElectionTimeout();
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.role = 'candidate';
    this.vote = this.id;
    this.votes = new Map([[this.id, true]]);
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.role = 'leader';
    this.leader = this.id;
    for (const id of members(this.log.membership())) {
      this.progress.set(id, new Progress(this.log.lastIndex() + 1, this.maxInflight));
    }
    const self = this.progress.get(this.id);
    if (self) {
      self.maybeUpdate(this.log.stable);
      self.becomeReplicate();
    }
    // Any config entry in the log may still be uncommitted: no new change until it is.
    this.pendingConfigIndex = this.log.lastConfigIndex();
    // §5.4.2 / §8: a leader commits entries of earlier terms only by committing one of its own.
    this.appendEntries([
      { term: this.term, index: this.log.lastIndex() + 1, kind: 'normal', data: new Uint8Array() },
    ]);
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = '';
    }
    this.leader = '';
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetElectionTimeout();
    this.votes = new Map();
    this.progress = new Map();
    this.leadTransferee = '';
    this.pendingConfigIndex = 0;
    this.reads.clear();
    this.earlyReads = [];
  }

  private promotable(): boolean {
    return isVoter(this.log.membership(), this.id) && this.log.pendingSnapshot === undefined;
  }

  /**
   * `skipPreVote`: the pre-vote is won already, or a transfer asked for the election. `transfer` alone marks
   * the vote requests `force`, past the voters' lease on their leader (§3.10): a vote after a won pre-vote
   * must still respect it.
   */
  private startElection(skipPreVote: boolean, transfer = false): void {
    if (!this.promotable()) return;
    const pre = this.preVote && !skipPreVote;
    if (pre) this.becomePreCandidate();
    else this.becomeCandidate();
    const term = pre ? this.term + 1 : this.term;
    const voters = this.log.membership().voters;
    if (tally(voters, this.votes) === 'won') {
      // A cluster of one: nobody to ask.
      if (pre) this.startElection(true);
      else this.becomeLeader();
      return;
    }
    for (const voter of voters) {
      if (voter === this.id) continue;
      this.send(
        message({
          type: pre ? 'preVote' : 'vote',
          from: this.id,
          to: voter,
          term,
          index: this.log.lastIndex(),
          logTerm: this.log.lastTerm(),
          force: transfer,
        }),
      );
    }
  }

  // ---- terms ------------------------------------------------------------------------------------------

  /** A message from a higher term: whether to go on handling it (the term may change on the way). */
  private acceptHigherTerm(m: Message): boolean {
    if (m.type === 'preVote' || m.type === 'vote') {
      // Check-quorum's lease: while a leader is heard from, a vote request is a disruption (a node that was
      // partitioned away), not an election — unless the leader itself asked for it (a transfer).
      const inLease = this.checkQuorum && this.leader !== '' && this.electionElapsed < this.electionTicks;
      if (inLease && !m.force) return false;
    }
    if (m.type === 'preVote') return true; // a pre-vote is hypothetical: the term stays
    if (m.type === 'preVoteResponse' && !m.reject) return true; // the term we asked for; taken if we win
    const fromLeader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot';
    this.becomeFollower(m.term, fromLeader ? m.from : '');
    return true;
  }

  private answerLowerTerm(m: Message): void {
    if (m.type === 'append' || m.type === 'heartbeat') {
      // A deposed leader (or one cut off a while): our term makes it step down. With check-quorum and
      // pre-vote a node does not raise its term on its own, so this is how a stale leader learns.
      this.reply(m, 'appendResponse');
    } else if (m.type === 'preVote') {
      this.reply(m, 'preVoteResponse', { reject: true });
    }
  }

  private handleVoteRequest(m: Message): void {
    const pre = m.type === 'preVote';
    const canVote =
      this.vote === m.from || (this.vote === '' && this.leader === '') || (pre && m.term > this.term);
    const responseType = pre ? 'preVoteResponse' : 'voteResponse';
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // A granted pre-vote answers with the term asked about, so the asker can tell it from stale answers.
      this.reply(m, responseType, { term: m.term });
      if (!pre) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.reply(m, responseType, { reject: true });
    }
  }

  // ---- follower and candidate -----------------------------------------------------------------------

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'append':
        this.heardFromLeader(m.from);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.heardFromLeader(m.from);
        this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
        this.reply(m, 'heartbeatResponse', { context: m.context });
        return;
      case 'snapshot':
        this.heardFromLeader(m.from);
        this.handleSnapshot(m);
        return;
      case 'timeoutNow':
        // The leader hands over: campaign at once, past pre-vote and the others' leases.
        this.startElection(true, true);
        return;
      default:
        return;
    }
  }

  private heardFromLeader(leader: NodeId): void {
    this.electionElapsed = 0;
    this.leader = leader;
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        // Someone won this term: follow it.
        this.becomeFollower(this.term, m.from);
        this.stepFollower(m);
        return;
      case 'preVoteResponse':
      case 'voteResponse': {
        if ((m.type === 'preVoteResponse') !== (this.role === 'preCandidate')) return;
        this.votes.set(m.from, !m.reject);
        const result = tally(this.log.membership().voters, this.votes);
        if (result === 'won') {
          if (this.role === 'preCandidate') this.startElection(true);
          else this.becomeLeader();
        } else if (result === 'lost') {
          this.becomeFollower(this.term, '');
        }
        return;
      }
      default:
        return;
    }
  }

  private handleAppend(m: Message): void {
    if (m.index < this.log.committed) {
      // Everything up to the commit index is settled: say so, and the leader moves on.
      this.reply(m, 'appendResponse', { index: this.log.committed });
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.reply(m, 'appendResponse', { index: lastNew });
      return;
    }
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.reply(m, 'appendResponse', {
      index: m.index,
      reject: true,
      rejectHint: hint,
      logTerm: this.log.term(hint) ?? 0,
    });
  }

  private handleSnapshot(m: Message): void {
    const snapshot = m.snapshot;
    if (snapshot === undefined) return;
    if (snapshot.index <= this.log.committed) {
      this.reply(m, 'appendResponse', { index: this.log.committed });
      return;
    }
    // When the log already held the snapshot's last entry it is kept, and only committed up to there: the
    // entries after it are not known to match the leader's, so the answer claims no more than the commit.
    const restored = this.log.restore(snapshot);
    this.reply(m, 'appendResponse', { index: restored ? this.log.lastIndex() : this.log.committed });
  }

  /** An answer to `m`, in this node's term unless `fields` say otherwise. */
  private reply(m: Message, type: Message['type'], fields: Partial<Message> = {}): void {
    this.send(message({ type, from: this.id, to: m.from, term: this.term, ...fields }));
  }

  // ---- leader ---------------------------------------------------------------------------------------

  private stepLeader(m: Message): void {
    const pr = this.progress.get(m.from);
    if (pr === undefined) return; // not (or no longer) a member
    switch (m.type) {
      case 'appendResponse':
        pr.recentActive = true;
        this.handleAppendResponse(m, pr);
        return;
      case 'heartbeatResponse':
        pr.heard();
        if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
        if (m.context > 0) this.ackRead(m.from, m.context);
        return;
      default:
        return;
    }
  }

  /** A member's forwarded proposals, appended as this leader's own; dropped when that cannot be done now. */
  private acceptForwarded(m: Message): void {
    if (this.role !== 'leader' || !this.progress.has(m.from) || m.entries.length === 0) return;
    if (m.entries.some((entry) => entry.kind !== 'normal' || entry.data.length === 0)) return;
    try {
      this.propose(m.entries.map((entry) => entry.data));
    } catch {
      // A transfer under way or too much uncommitted: the sender hears nothing and proposes again.
    }
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    if (m.reject) {
      const hint = m.logTerm > 0 ? this.log.findConflictByTerm(m.rejectHint, m.logTerm) : m.rejectHint;
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (pr.maybeUpdate(m.index)) {
      if (pr.state === 'probe') pr.becomeReplicate();
      else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
        pr.becomeProbe();
        pr.becomeReplicate();
      } else if (pr.state === 'replicate') pr.freeUpTo(m.index);
      if (this.maybeCommit()) this.broadcastAppend();
      if (wasPaused || pr.state === 'replicate') this.sendAppendWhileOpen(m.from, pr);
      if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
        this.send(message({ type: 'timeoutNow', from: this.id, to: m.from, term: this.term }));
      }
    }
  }

  private sendAppendWhileOpen(to: NodeId, pr: Progress): void {
    while (!pr.isPaused() && pr.next <= this.log.lastIndex()) {
      if (!this.sendAppend(to)) return;
    }
  }

  /** Appends the leader's own entries and replicates them. */
  private appendEntries(entries: Entry[]): void {
    if (entries.length === 0) return;
    this.log.appendAt(entries);
    const last = entries[entries.length - 1] as Entry;
    if (last.kind === 'config' || entries.some((entry) => entry.kind === 'config')) {
      this.pendingConfigIndex = last.index;
      this.membershipChanged();
    }
    this.broadcastAppend();
  }

  /** After the membership changed: a leader tracks the new members and forgets removed ones. */
  private membershipChanged(): void {
    if (this.role !== 'leader') return;
    const membership = this.log.membership();
    for (const id of members(membership)) {
      if (!this.progress.has(id)) this.progress.set(id, new Progress(this.log.lastIndex(), this.maxInflight));
    }
    for (const id of [...this.progress.keys()]) {
      if (!isMember(membership, id) && id !== this.id) this.progress.delete(id);
    }
  }

  /** Commits what a majority holds, if it is of this term (Figure 8: never by counting replicas alone). */
  private maybeCommit(): boolean {
    const voters = this.log.membership().voters;
    const index = committedIndex(voters, (id) => this.progress.get(id)?.match ?? 0);
    if (index <= this.log.committed || this.log.term(index) !== this.term) return false;
    this.log.commitTo(index);
    this.afterCommit();
    return true;
  }

  private afterCommit(): void {
    // Reads waiting for this term's first commit can now be confirmed.
    if (this.earlyReads.length > 0 && this.log.term(this.log.committed) === this.term) {
      for (const requestId of this.earlyReads) this.reads.add(requestId, this.log.committed, this.id);
      this.earlyReads = [];
      this.broadcastHeartbeat(this.reads.newest());
    }
    // A leader removed from the voters leads until that change commits, then steps down (§4.2.2).
    if (!isVoter(this.log.membership(), this.id) && this.log.committed >= this.log.lastConfigIndex()) {
      this.broadcastAppend(); // followers learn the commit before the leader goes quiet
      this.becomeFollower(this.term, '');
    }
  }

  private broadcastAppend(): void {
    for (const id of this.progress.keys()) if (id !== this.id) this.sendAppend(id);
  }

  private broadcastHeartbeat(context: number): void {
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      // No further than the follower is known to match: it must not commit what it may not hold.
      const commit = Math.min(pr.match, this.log.committed);
      this.send(message({ type: 'heartbeat', from: this.id, to: id, term: this.term, commit, context }));
    }
  }

  /** Sends `to` what it misses (or the snapshot). Returns whether a message went. */
  private sendAppend(to: NodeId): boolean {
    const pr = this.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const entries = this.log.slice(pr.next, this.log.lastIndex() + 1, this.maxMessageBytes);
    if (prevTerm === undefined || entries === undefined) {
      const snapshot = this.log.snapshot;
      if (snapshot === undefined || !pr.recentActive) return false;
      pr.becomeSnapshot(snapshot.index);
      this.send(message({ type: 'snapshot', from: this.id, to, term: this.term, snapshot }));
      return true;
    }
    this.send(
      message({
        type: 'append',
        from: this.id,
        to,
        term: this.term,
        index: prevIndex,
        logTerm: prevTerm,
        entries,
        commit: this.log.committed,
      }),
    );
    if (entries.length > 0) pr.sentUpTo((entries[entries.length - 1] as Entry).index);
    else if (pr.state === 'probe') pr.sentUpTo(prevIndex);
    return true;
  }

  private ackRead(from: NodeId, context: number): void {
    const confirmed = this.reads.ack(
      from,
      context,
      (acks) => tally(this.log.membership().voters, acks) === 'won',
    );
    for (const read of confirmed) this.readStates.push({ index: read.index, requestId: read.requestId });
  }

  // ---- helpers ----------------------------------------------------------------------------------------

  private mustLead(what: string): void {
    if (this.role !== 'leader') {
      throw new TidemarkError(
        'NOT_LEADER',
        this.leader === ''
          ? `raft: cannot ${what}: no leader is known`
          : `raft: cannot ${what}: ${this.leader} leads`,
        { details: { leader: this.leader } },
      );
    }
  }

  private send(m: Message): void {
    this.outbox.push(m);
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private softState(): SoftState {
    return { leader: this.leader, role: this.role };
  }
}

function sameHard(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoft(a: SoftState, b: SoftState): boolean {
  return a.leader === b.leader && a.role === b.role;
}
