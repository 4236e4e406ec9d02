export { CheckpointCatalog, type ChainSummary, type RemoveOptions, type RemoveResult } from './catalog';
export { CATALOG_FILE_NAME, CATALOG_FORMAT_VERSION, CatalogFile, type CatalogData } from './catalog-file';
export { rebuildCatalog, type RebuildProblem, type RebuildResult } from './catalog-rebuild';
export {
  type CheckpointListing,
  type CheckpointStatus,
  type CheckpointSummary,
  summarize,
} from './checkpoint-summary';
