import { badRequest, bucketExists, noSuchBucket, noSuchObject } from './http-errors';
import { checkWrite, type Preconditions } from './preconditions';
import { checksumsOf, objectNameProblem, type Checksums, type StoredObject } from './stored-object';

/** What an upload hands over to be stored. */
export interface ObjectDraft {
  name: string;
  data: Buffer;
  contentType: string;
  /** Checksums the client sent; the upload is refused (400) when the bytes do not match them. */
  expected?: Partial<Checksums>;
}

/** One bucket's live objects (no versioning: a write replaces the live generation). */
export class BucketData {
  readonly timeCreated = new Date();
  private readonly objects = new Map<string, StoredObject>();
  /** The objects in listing order, rebuilt lazily after a write or a delete. */
  private ordered: StoredObject[] | undefined;

  constructor(readonly name: string) {}

  find(name: string): StoredObject | undefined {
    return this.objects.get(name);
  }

  require(name: string): StoredObject {
    const object = this.objects.get(name);
    if (object === undefined) throw noSuchObject(this.name, name);
    return object;
  }

  store(object: StoredObject): void {
    this.objects.set(object.name, object);
    this.ordered = undefined;
  }

  remove(name: string): void {
    if (this.objects.delete(name)) this.ordered = undefined;
  }

  /** Live objects sorted by the UTF-8 bytes of their names, the order GCS lists in. */
  inOrder(): readonly StoredObject[] {
    this.ordered ??= [...this.objects.values()].sort((a, b) => Buffer.compare(a.nameBytes, b.nameBytes));
    return this.ordered;
  }
}

/**
 * All buckets of the test server. Generations come from one counter that only rises (like GCS's, which are
 * microsecond timestamps), so a rewritten object never gets a generation it had before.
 */
export class MemoryBuckets {
  private readonly buckets = new Map<string, BucketData>();
  private lastGeneration = 0;

  createBucket(name: string): BucketData {
    if (this.buckets.has(name)) throw bucketExists();
    if (!/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(name)) throw badRequest(`Invalid bucket name: '${name}'`);
    const bucket = new BucketData(name);
    this.buckets.set(name, bucket);
    return bucket;
  }

  deleteBucket(name: string): boolean {
    return this.buckets.delete(name);
  }

  bucket(name: string): BucketData {
    const bucket = this.buckets.get(name);
    if (bucket === undefined) throw noSuchBucket();
    return bucket;
  }

  /**
   * Checks the preconditions against the live object and stores the draft as a new generation, with no await
   * in between: of concurrent conditional writes exactly one can win, as on GCS.
   */
  write(bucketName: string, draft: ObjectDraft, conditions: Preconditions): StoredObject {
    const bucket = this.bucket(bucketName);
    const problem = objectNameProblem(draft.name);
    if (problem !== undefined) throw badRequest(problem);
    const checksums = checksumsOf(draft.data);
    for (const kind of ['crc32c', 'md5Hash'] as const) {
      const expected = draft.expected?.[kind];
      if (expected !== undefined && expected !== checksums[kind]) {
        throw badRequest(
          `Provided ${kind} "${expected}" doesn't match calculated ${kind} "${checksums[kind]}".`,
        );
      }
    }
    checkWrite(conditions, bucket.find(draft.name));
    const now = new Date();
    const object: StoredObject = {
      name: draft.name,
      nameBytes: Buffer.from(draft.name),
      data: draft.data,
      generation: this.nextGeneration(),
      metageneration: 1,
      contentType: draft.contentType,
      ...checksums,
      timeCreated: now,
      updated: now,
    };
    bucket.store(object);
    return object;
  }

  private nextGeneration(): number {
    this.lastGeneration = Math.max(this.lastGeneration + 1, Date.now() * 1000);
    return this.lastGeneration;
  }
}
