import { MemoryStore } from '../../../src/storage';
import { runObjectStoreContract } from '../../support/storage/object-store.contract';

runObjectStoreContract('memory', async () => ({ store: new MemoryStore(), teardown: async () => undefined }));

// A small page size makes every listing test cross page boundaries.
runObjectStoreContract('memory, 7 keys a page', async () => ({
  store: new MemoryStore({ pageSize: 7 }),
  teardown: async () => undefined,
}));
