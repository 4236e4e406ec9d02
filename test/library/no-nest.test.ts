import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { ROOT, ensureBuilt } from '../support/ensure-built';

/**
 * `import 'tidemark'` is for processes that embed the library, not for the service: loading the package's
 * main file (the build of src/index.ts) must not load Nest. Checked in a fresh Node process, where
 * require.cache lists every module the import pulled in.
 */
describe('the package main', () => {
  beforeAll(() => ensureBuilt());

  it('loads no Nest module', () => {
    const main = path.join(ROOT, 'dist/index.js');
    const script = `
      const tidemark = require(${JSON.stringify(main)});
      const nest = Object.keys(require.cache).filter((file) => /node_modules[\\\\/](@nestjs|nestjs-pino)[\\\\/]/.test(file));
      console.log(JSON.stringify({ nest, engine: typeof tidemark.RecoveryEngine, verifier: typeof tidemark.verifyStore }));
    `;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as {
      nest: string[];
      engine: string;
      verifier: string;
    };
    expect(out).toEqual({ nest: [], engine: 'function', verifier: 'function' });
  });
});
