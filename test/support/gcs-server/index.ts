export { startGcsServer, type GcsServerOptions, type GcsTestServer, type RequestCounts } from './gcs-server';
export type { Fault } from './faults';
export { REQUEST_KINDS, type RequestKind } from './routes';
