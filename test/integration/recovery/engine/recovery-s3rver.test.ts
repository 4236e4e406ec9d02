import { S3Store } from '../../../../src/storage/s3';
import { S3rverServer } from '../../../support/s3rver-server';
import { removeDir, tempDir } from '../../../support/wal/wal-fixtures';
import { Engines, checkWipedNodeRecovery } from '../../../support/recovery/recovery-fixtures';

describe('RecoveryEngine from S3 (s3rver) after the node lost its disk', () => {
  const server = new S3rverServer();
  const engines = new Engines();
  let root: string;

  beforeAll(() => server.start());
  afterAll(() => server.dispose());

  beforeEach(() => {
    root = tempDir('tidemark-recovery-s3-');
  });

  afterEach(async () => {
    await engines.closeAll();
    removeDir(root);
  });

  it('recovers checkpoints, LSNs and a time from the bucket alone', async () => {
    const store = new S3Store(server.storeOptions(await server.createBucket()));
    try {
      await checkWipedNodeRecovery(store, root, engines);
    } finally {
      await store.close();
    }
  });
});
