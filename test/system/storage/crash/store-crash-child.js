'use strict';
/* global require, module, process, Buffer, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script run by node */
/**
 * Child process of test/system/storage/local-file-store.crash.test.ts (plain CommonJS; it loads the BUILT library).
 *
 *   node store-crash-child.js <dir> <seed> <mode>        mode: "free" or "hang"
 *
 * Two writers put self-checking objects of 1-6 MiB into a LocalFileStore at <dir> (syncWrites on) until the
 * parent SIGKILLs the process: streamed and factory bodies replacing a few keys, Buffers replacing them too,
 * and streamed create-if-absent puts of keys each tried twice. It prints one line per event:
 *
 *   S <key> <kind>     a put begins          M <key>   half of a streamed body has been handed to the store
 *   D <key>            the put resolved      P <key>   create-if-absent found the key taken
 *
 * In "hang" mode the first streamed body to reach its middle stops producing, so that put stays in the
 * middle of writing its temporary file until the kill. Pipe writes are synchronous on Linux, so a printed
 * line has left the process before the next step. `isComplete` is shared with the parent.
 */
const { createHash, randomBytes } = require('node:crypto');
const path = require('node:path');
const { Readable } = require('node:stream');

const HEADER = 8;
const DIGEST = 32;

/** Body = payload length (u64 LE) | payload | sha256 of everything before it. A cut or mixed body fails. */
function isComplete(body) {
  if (body.length < HEADER + DIGEST) return false;
  if (Number(body.readBigUInt64LE(0)) !== body.length - HEADER - DIGEST) return false;
  const digest = createHash('sha256')
    .update(body.subarray(0, body.length - DIGEST))
    .digest();
  return digest.equals(body.subarray(body.length - DIGEST));
}

/** A streamed self-checking body of `payload` random bytes; `onHalf` runs when half is handed out. */
function bodyStream(payload, onHalf, hangAtHalf) {
  const hash = createHash('sha256');
  const header = Buffer.alloc(HEADER);
  header.writeBigUInt64LE(BigInt(payload));
  hash.update(header);
  let sent = 0;
  let state = 'header';
  return new Readable({
    highWaterMark: 64 * 1024,
    read() {
      if (state === 'header') {
        state = 'payload';
        this.push(header);
      } else if (state === 'payload' && sent < payload) {
        if (sent >= payload / 2 && onHalf !== undefined) {
          const callback = onHalf;
          onHalf = undefined;
          callback();
          if (hangAtHalf) return; // never push again: the put stays mid-write until the kill
        }
        const chunk = randomBytes(Math.min(64 * 1024, payload - sent));
        sent += chunk.length;
        hash.update(chunk);
        this.push(chunk);
      } else if (state === 'payload') {
        state = 'end';
        this.push(hash.digest());
      } else this.push(null);
    },
  });
}

function bodyBuffer(payload) {
  const body = Buffer.alloc(HEADER + payload + DIGEST);
  body.writeBigUInt64LE(BigInt(payload));
  randomBytes(payload).copy(body, HEADER);
  createHash('sha256')
    .update(body.subarray(0, HEADER + payload))
    .digest()
    .copy(body, HEADER + payload);
  return body;
}

/** mulberry32 */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function say(line) {
  process.stdout.write(`${line}\n`);
}

async function writer(store, id, random, seed, hang) {
  for (let i = 0; ; i++) {
    const payload = 1024 * 1024 + Math.floor(random() * 5 * 1024 * 1024);
    const kind = ['stream', 'factory', 'buffer', 'create'][Math.floor(random() * 4)];
    const key =
      kind === 'create' ? `once/${seed}-${id}-${Math.floor(i / 2)}` : `obj/${Math.floor(random() * 6)}`;
    const half = () => {
      say(`M ${key}`);
      hang.armed = false;
    };
    say(`S ${key} ${kind}`);
    try {
      if (kind === 'buffer') await store.put(key, bodyBuffer(payload));
      else if (kind === 'factory') await store.put(key, () => bodyStream(payload, half, hang.armed));
      else {
        const options = kind === 'create' ? { ifNoneMatch: '*' } : {};
        await store.put(key, bodyStream(payload, half, hang.armed), options);
      }
      say(`D ${key}`);
    } catch (error) {
      if (error.code !== 'PRECONDITION_FAILED') throw error;
      say(`P ${key}`);
    }
  }
}

async function main() {
  const [dir, seedText, mode] = process.argv.slice(2);
  const seed = Number(seedText);
  const { LocalFileStore } = require(path.resolve(__dirname, '../../../../dist/index.js'));
  const store = new LocalFileStore({ basePath: dir, syncWrites: true });
  await store.init();
  const hang = { armed: mode === 'hang' };
  await Promise.all([
    writer(store, 'a', prng(seed), seed, hang),
    writer(store, 'b', prng(seed + 1), seed, hang),
  ]);
}

module.exports = { isComplete };

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  });
}
