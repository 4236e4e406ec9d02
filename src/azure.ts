/** `tidemark/azure`: the Azure Blob object store, apart from the main face so its SDK loads only when used. */
export * from './storage/azure';
