/** Injection tokens of the tiering module's ports. */
export const JOB_QUEUE = Symbol('JOB_QUEUE');
export const LEASE_PROVIDER = Symbol('LEASE_PROVIDER');
