export { AzureBlobStore } from './azure-store';
export type { AzureBlobStoreOptions } from './azure-options';
