// eslint-disable-next-line @typescript-eslint/no-require-imports
const C = require('./wal/crash/wal-crash-child.js');
it('prof', () => {
  for (let k = 0; k < 3; k++) {
    const t = Date.now();
    for (let i = 1; i <= 2000; i++) C.entryFor('agg-3', i + k * 2000);
    process.stdout.write(`gen ${Date.now() - t}\n`);
  }
  let t = Date.now();
  const b = Buffer.allocUnsafe(1000000);
  for (let i = 0; i < 1000000; i++) b[i] = i & 255;
  process.stdout.write(`buf ${Date.now() - t}\n`);
  t = Date.now();
  let x = 0;
  for (let i = 0; i < 1000000; i++) x += Math.floor(Math.random() * 256);
  process.stdout.write(`math ${Date.now() - t} ${x > 0}\n`);
});
