export { GcsStore } from './gcs-store';
export { GCS_DEFAULTS, type GcsCredentials, type GcsStoreOptions } from './gcs-options';
