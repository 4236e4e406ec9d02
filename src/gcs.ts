/** `tidemark/gcs`: the Google Cloud Storage object store, apart from the main face so its SDK loads only when used. */
export * from './storage/gcs';
