/**
 * The lease port: the right to act as the one scheduler, named by `name`, held by one `holderId` at a time
 * for a TTL, with a fencing token that rises on every grant. Today the lease decides which process acts for
 * a node (docs/tiering.md, "Leases and fencing"); the token it carries is what writes are fenced with.
 * Adapters: RedisLeaseProvider (cluster) and LocalLeaseProvider (embedded, one process).
 */
export interface LeaseGrant {
  name: string;
  holderId: string;
  token: number;
  /** ms since epoch, as the provider computed it; informational */
  expiresAt: number;
}

export interface LeaseHolder {
  holderId: string;
  token: number;
}

export interface LeaseProvider {
  /**
   * Takes the lease `name` when nobody holds it (or the holder's TTL ran out). The grant's token is above
   * every token granted for `name` before, and at least `minToken` (a node passes its catalog's highest
   * token + 1 so tokens never go back even if Redis lost its data). undefined when someone else holds it.
   */
  acquire(name: string, holderId: string, ttlMs: number, minToken?: number): Promise<LeaseGrant | undefined>;
  /** Extends the lease if `grant` still holds it (compare-and-set on holder AND token); false when lost. */
  renew(grant: LeaseGrant, ttlMs: number): Promise<boolean>;
  /** Gives it up if `grant` still holds it (compare-and-delete); never releases someone else's lease. */
  release(grant: LeaseGrant): Promise<void>;
  /** Who holds it now, or undefined. */
  holder(name: string): Promise<LeaseHolder | undefined>;
  close(): Promise<void>;
}
