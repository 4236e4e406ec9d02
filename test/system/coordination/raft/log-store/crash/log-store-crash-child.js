'use strict';
/* global require, module, process, Buffer, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script run by node */
/**
 * Child process of test/system/coordination/raft/log-store/log-store-crash.test.ts (plain CommonJS; it loads
 * the BUILT library from dist/).
 *
 *   node log-store-crash-child.js <dir> <seed>
 *
 * Opens a FileRaftLogStore at <dir> (printing `S` just before load and `R <digest>` after it), then saves
 * forever, one call at a time, until the parent SIGKILLs it: appends, conflicting rewrites, hard states,
 * compactions and leaders' snapshots. Around each call it prints
 *
 *   P <digest>    the state the call is about to make (not yet durable)
 *   A <digest>    the call resolved: that state is acknowledged
 *
 * so after the kill the store must hold the last acknowledged state or the one in flight, nothing else.
 * A digest is the whole state but the bytes (snapshot position, hard state, term runs of the entries);
 * bytes are a pure function of (index, term) (`dataFor`), which the parent checks entry by entry.
 * stdout is a pipe, whose writes are synchronous on Linux: a printed line has left before the next call.
 */
const path = require('node:path');

const { floor, imul, max, min } = Math;

/** mulberry32: a small seeded PRNG giving floats in [0, 1). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The bytes of entry (index, term); a snapshot's are dataFor(index, term, 200). */
function dataFor(index, term, length = 1 + ((index * 7 + term) % 60)) {
  const data = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) data[i] = (index * 31 + term * 17 + i) & 0xff;
  return data;
}

const MEMBERSHIP = { voters: ['n1', 'n2', 'n3'], learners: ['n4'] };

/** What the store should hold, kept by the rules of docs/raft-log-store.md (written apart from the store). */
class Mirror {
  constructor(state) {
    this.snapIndex = state.snapshot ? state.snapshot.index : 0;
    this.snapTerm = state.snapshot ? state.snapshot.term : 0;
    this.terms = state.entries.map((entry) => entry.term);
    this.hard = state.hardState;
  }

  clone() {
    const copy = Object.create(Mirror.prototype);
    return Object.assign(copy, this, { terms: this.terms.slice() });
  }

  last() {
    return this.snapIndex + this.terms.length;
  }

  termAt(index) {
    if (index === this.snapIndex) return this.snapTerm;
    if (index < this.snapIndex || index > this.last()) return undefined;
    return this.terms[index - this.snapIndex - 1];
  }

  dropThrough(index, term) {
    this.terms = this.termAt(index) === term ? this.terms.slice(index - this.snapIndex) : [];
    this.snapIndex = index;
    this.snapTerm = term;
  }

  apply({ snapshot, entries, hardState }) {
    if (snapshot) this.dropThrough(snapshot.index, snapshot.term);
    if (entries.length > 0) {
      this.terms.length = entries[0].index - this.snapIndex - 1;
      for (const entry of entries) this.terms.push(entry.term);
    }
    if (hardState) this.hard = hardState;
  }

  digest() {
    const runs = [];
    let from = this.snapIndex + 1;
    for (let i = 0; i <= this.terms.length; i++) {
      const index = this.snapIndex + 1 + i;
      if (i === this.terms.length || (i > 0 && this.terms[i] !== this.terms[i - 1])) {
        if (index > from) runs.push(`${from}-${index - 1}@${this.terms[from - this.snapIndex - 1]}`);
        from = index;
      }
    }
    const { term, vote, commit } = this.hard;
    return `s${this.snapIndex}@${this.snapTerm} h${term}/${vote || '-'}/${commit} e${runs.join(',') || '-'}`;
  }
}

function digestOf(state) {
  return new Mirror(state).digest();
}

function entriesFrom(from, count, term) {
  const out = [];
  for (let index = from; index < from + count; index++) {
    out.push({ term, index, kind: index % 7 === 0 ? 'config' : 'normal', data: dataFor(index, term) });
  }
  return out;
}

/** The next call: `{ update }` for a save or `{ compact }` for a compaction, from the mirror's state. */
function nextCall(rng, mirror) {
  const int = (lo, hi) => lo + floor(rng() * (hi - lo + 1));
  const last = mirror.last();
  let term = max(mirror.hard.term, mirror.termAt(last), 1);
  const vote = `n${int(1, 3)}`;
  const r = rng();
  if (r < 0.55 || last === mirror.snapIndex) {
    const entries = entriesFrom(last + 1, int(1, 20), term);
    const hardState =
      rng() < 0.5
        ? { term, vote: mirror.hard.vote, commit: min(last + 1, mirror.hard.commit + int(0, 20)) }
        : undefined;
    return { update: { entries, hardState } };
  }
  if (r < 0.7) {
    term++;
    const from = max(mirror.snapIndex + 1, last - int(0, 5));
    return {
      update: {
        entries: entriesFrom(from, int(1, 5), term),
        hardState: { term, vote, commit: mirror.hard.commit },
      },
    };
  }
  if (r < 0.8)
    return { update: { entries: [], hardState: { term, vote, commit: min(last, mirror.hard.commit + 1) } } };
  if (r < 0.92) {
    const index = int(mirror.snapIndex + 1, last);
    return { compact: snapshotAt(index, mirror.termAt(index)) };
  }
  const index = int(mirror.snapIndex + 1, last + 5);
  const snapTerm = index <= last && rng() < 0.5 ? mirror.termAt(index) : ++term;
  const entries = rng() < 0.5 ? entriesFrom(index + 1, int(1, 3), term) : [];
  return {
    update: { snapshot: snapshotAt(index, snapTerm), entries, hardState: { term, vote, commit: index } },
  };
}

function snapshotAt(index, term) {
  return { index, term, membership: MEMBERSHIP, data: dataFor(index, term, 200) };
}

function fatal(message) {
  process.stderr.write(`F ${message}\n`);
  process.exit(2);
}

async function main() {
  const [dir, seedArg] = process.argv.slice(2);
  if (dir === undefined || seedArg === undefined) fatal('usage: log-store-crash-child.js <dir> <seed>');
  const rng = prng(Number(seedArg));
  const root = path.join(__dirname, '..', '..', '..', '..', '..', '..');
  const { FileRaftLogStore } = require(path.join(root, 'dist', 'coordination', 'raft', 'log-store'));
  const store = new FileRaftLogStore(dir);
  process.stdout.write('S\n');
  let mirror = new Mirror(await store.load());
  process.stdout.write(`R ${mirror.digest()}\n`);
  for (;;) {
    const call = nextCall(rng, mirror);
    const next = mirror.clone();
    if (call.compact) next.dropThrough(call.compact.index, call.compact.term);
    else next.apply(call.update);
    const digest = next.digest();
    process.stdout.write(`P ${digest}\n`);
    if (call.compact) await store.compact(call.compact);
    else await store.save(call.update);
    process.stdout.write(`A ${digest}\n`);
    mirror = next;
  }
}

if (require.main === module) {
  process.on('unhandledRejection', (error) => fatal(String(error && error.stack ? error.stack : error)));
  main().catch((error) => fatal(String(error && error.stack ? error.stack : error)));
}

module.exports = { dataFor, digestOf, prng, MEMBERSHIP };
