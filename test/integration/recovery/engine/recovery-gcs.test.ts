import { GcsStore } from '../../../../src/storage/gcs';
import { startGcsServer, type GcsTestServer } from '../../../support/gcs-server';
import { removeDir, tempDir } from '../../../support/wal/wal-fixtures';
import { Engines, checkWipedNodeRecovery } from '../../../support/recovery/recovery-fixtures';

describe('RecoveryEngine from GCS (the GCS test server) after the node lost its disk', () => {
  const engines = new Engines();
  let server: GcsTestServer;
  let root: string;

  beforeAll(async () => {
    server = await startGcsServer();
  });
  afterAll(() => server?.stop());

  beforeEach(() => {
    root = tempDir('tidemark-recovery-gcs-');
  });

  afterEach(async () => {
    await engines.closeAll();
    removeDir(root);
  });

  it('recovers checkpoints, LSNs and a time from the bucket alone', async () => {
    server.createBucket('tidemark-recovery');
    const store = new GcsStore({
      bucket: 'tidemark-recovery',
      apiEndpoint: server.endpoint,
      projectId: 'test',
    });
    await checkWipedNodeRecovery(store, root, engines);
  });
});
