export * from './tidemark-error';
