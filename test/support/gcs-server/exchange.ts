import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MemoryBuckets } from './memory-buckets';
import type { ResumableSessions } from './resumable';

/** What the server keeps across a stop and a start: buckets, objects and open upload sessions. */
export interface ServerData {
  buckets: MemoryBuckets;
  sessions: ResumableSessions;
}

/** One request being answered. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Bucket and object name from the path, percent-decoded. */
  bucket: string;
  object: string;
  /** `http://host:port` of the server, for links and session URIs. */
  baseUrl: string;
  data: ServerData;
}

export type Handler = (exchange: Exchange) => void | Promise<void>;
