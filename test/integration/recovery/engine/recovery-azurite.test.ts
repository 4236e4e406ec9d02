import { AzureBlobStore } from '../../../../src/storage/azure';
import { startAzurite, type TestAzurite } from '../../../support/azurite-server';
import { removeDir, tempDir } from '../../../support/wal/wal-fixtures';
import { Engines, checkWipedNodeRecovery } from '../../../support/recovery/recovery-fixtures';

describe('RecoveryEngine from Azure Blob (azurite) after the node lost its disk', () => {
  const engines = new Engines();
  let azurite: TestAzurite;
  let root: string;

  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(() => azurite?.dispose());

  beforeEach(() => {
    root = tempDir('tidemark-recovery-azure-');
  });

  afterEach(async () => {
    await engines.closeAll();
    removeDir(root);
  });

  it('recovers checkpoints, LSNs and a time from the container alone', async () => {
    const container = await azurite.createContainer();
    const store = new AzureBlobStore({ container, connectionString: azurite.connectionString });
    await checkWipedNodeRecovery(store, root, engines);
  });
});
