import { randomBytes } from 'node:crypto';
import type { ContentRange } from './content-range';
import { badRequest, GcsHttpError } from './http-errors';
import type { MemoryBuckets } from './memory-buckets';
import { checkWrite, type Preconditions } from './preconditions';
import type { Checksums, StoredObject } from './stored-object';

/** GCS persists a non-final chunk in whole units of 256 KiB; clients resend the rest. */
export const CHUNK_UNIT = 256 * 1024;

export interface SessionStart {
  bucket: string;
  name: string;
  contentType: string;
  conditions: Preconditions;
  /** `X-Upload-Content-Length`, when the client declared the size up front. */
  declaredLength?: number;
}

interface Session extends SessionStart {
  chunks: Buffer[];
  persisted: number;
  /** Set once the upload completed: later requests on the session report the object. */
  result?: StoredObject;
}

/** What a PUT on a session leads to: more bytes wanted (308 with a Range), or the stored object (200). */
export type ResumeOutcome = { done: false; persisted: number } | { done: true; object: StoredObject };

/**
 * Resumable upload sessions (https://cloud.google.com/storage/docs/performing-resumable-uploads): started by a
 * POST, fed by PUTs with Content-Range, finished by the request that reaches the total. Preconditions are
 * checked when the session starts (fail fast) and again, atomically with the write, when it completes.
 */
export class ResumableSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly buckets: MemoryBuckets) {}

  start(start: SessionStart): string {
    checkWrite(start.conditions, this.buckets.bucket(start.bucket).find(start.name));
    const id = randomBytes(16).toString('hex');
    this.sessions.set(id, { ...start, chunks: [], persisted: 0 });
    return id;
  }

  /** Deletes the session; what it had received is dropped. */
  cancel(id: string): void {
    this.require(id);
    this.sessions.delete(id);
  }

  receive(id: string, range: ContentRange, body: Buffer, expected: Partial<Checksums>): ResumeOutcome {
    const session = this.require(id);
    if (session.result !== undefined) return { done: true, object: session.result };
    if (range.kind === 'status') {
      if (range.total === undefined || range.total > session.persisted) {
        return { done: false, persisted: session.persisted };
      }
      if (range.total < session.persisted)
        throw badRequest(`Upload has ${session.persisted} bytes, more than ${range.total}`);
      return this.complete(id, session, expected);
    }

    const { start, total } = range;
    const end = range.end ?? start + body.length - 1;
    if (end - start + 1 !== body.length) {
      throw badRequest(`Content-Range covers ${end - start + 1} bytes but the body has ${body.length}`);
    }
    if (start > session.persisted) {
      throw badRequest(`Chunk starts at ${start} but only ${session.persisted} bytes are persisted`);
    }
    if (total !== undefined && end + 1 > total)
      throw badRequest(`Chunk ends past the total of ${total} bytes`);
    const fresh = body.subarray(session.persisted - start); // a resent overlap is skipped
    const final = range.end === undefined || (total !== undefined && end + 1 === total);
    if (final) {
      this.append(session, fresh);
      return this.complete(id, session, expected);
    }
    const aligned = Math.floor((end + 1) / CHUNK_UNIT) * CHUNK_UNIT;
    this.append(session, fresh.subarray(0, Math.max(0, aligned - session.persisted)));
    return { done: false, persisted: session.persisted };
  }

  private append(session: Session, bytes: Buffer): void {
    if (bytes.length === 0) return;
    session.chunks.push(Buffer.from(bytes)); // a copy: the request's buffer is not ours to keep
    session.persisted += bytes.length;
  }

  private complete(id: string, session: Session, expected: Partial<Checksums>): ResumeOutcome {
    try {
      if (session.declaredLength !== undefined && session.declaredLength !== session.persisted) {
        throw badRequest(
          `Upload declared ${session.declaredLength} bytes (X-Upload-Content-Length) but sent ${session.persisted}`,
        );
      }
      session.result = this.buckets.write(
        session.bucket,
        {
          name: session.name,
          data: Buffer.concat(session.chunks),
          contentType: session.contentType,
          expected,
        },
        session.conditions,
      );
      session.chunks = [];
      return { done: true, object: session.result };
    } catch (error) {
      this.sessions.delete(id); // a failed completion ends the session, as on GCS
      throw error;
    }
  }

  private require(id: string): Session {
    const session = this.sessions.get(id);
    if (session === undefined) throw new GcsHttpError(404, 'notFound', 'No such upload session');
    return session;
  }
}
