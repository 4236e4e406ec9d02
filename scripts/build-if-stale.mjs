// `npm start` runs this before `node dist/cli.js serve`: it compiles dist/ only when something the build
// reads changed since the last build this script ran, so a start without changes takes about a second
// instead of a full tsc run. Plain JavaScript: it has to run before anything is compiled.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'dist', '.build-stamp');
const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];

/** Newest mtime of a file or a tree; directories count too, so a deleted or renamed file is a change. */
function newestMtime(target) {
  const stat = statSync(target, { throwIfNoEntry: false });
  if (stat === undefined) return 0;
  let newest = stat.mtimeMs;
  if (stat.isDirectory()) {
    for (const entry of readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  }
  return newest;
}

const built = existsSync(path.join(root, 'dist', 'cli.js')) ? newestMtime(stamp) : 0;
const changed = Math.max(...inputs.map((input) => newestMtime(path.join(root, input))));
if (built > 0 && changed < built) {
  process.stderr.write('tidemark: dist/ is current, starting without a build\n');
} else {
  const why = built === 0 ? 'no build by this script yet' : 'sources changed since the last build';
  process.stderr.write(`tidemark: ${why}, building dist/\n`);
  // The stamp takes the time the build started: a file saved during the build still counts as newer.
  const started = new Date();
  // From scratch: a file moved or deleted in src/ must not live on in dist/.
  rmSync(path.join(root, 'dist'), { recursive: true, force: true });
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
  writeFileSync(stamp, `${started.toISOString()}\n`);
  utimesSync(stamp, started, started);
}
