import * as path from 'node:path';
import { LocalFileStore } from '../../../../src/storage';
import { removeDir, tempDir } from '../../../support/wal/wal-fixtures';
import { Engines, checkWipedNodeRecovery } from '../../../support/recovery/recovery-fixtures';

describe('RecoveryEngine after the node lost its disk: everything from the local store', () => {
  const engines = new Engines();
  let root: string;

  beforeEach(() => {
    root = tempDir('tidemark-recovery-wiped-');
  });

  afterEach(async () => {
    await engines.closeAll();
    removeDir(root);
  });

  it('recovers checkpoints, LSNs and a time from the manifests and WAL packs alone', async () => {
    await checkWipedNodeRecovery(new LocalFileStore({ basePath: path.join(root, 'store') }), root, engines);
  });
});
