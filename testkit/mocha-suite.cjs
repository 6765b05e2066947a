// The whole suite, as `npm run test:unit` runs it: .mocharc.json's settings, every test/**/*.test.ts
// file in parallel processes (two more than the CPUs, at least four), and the heavy files first. A file is
// heavy when it starts `npm start`, `serverless` or the bench in processes of their own: each takes
// seconds, and one of them started last would end the run alone while the other processes idle.
// docs/development.md says how a test file stays fast and fit to run beside the others.
const { readdirSync, readFileSync } = require('node:fs');
const { availableParallelism } = require('node:os');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const HEAVY = /testkit\/(local-stack|serverless)'|'bench\/index\.ts'/;

const files = readdirSync(join(ROOT, 'test'), { recursive: true })
  .filter((name) => name.endsWith('.test.ts'))
  .map((name) => relative(ROOT, join(ROOT, 'test', name)))
  .sort();
const heavy = files.filter((file) => HEAVY.test(readFileSync(join(ROOT, file), 'utf8')));

module.exports = {
  ...require('../.mocharc.json'),
  parallel: true,
  // Two more processes than CPUs: many tests wait on a socket, a child process or a timer, and with one
  // process per CPU a core idles meanwhile. On 2 cores from a fresh clone, the suite took 65 s with 3
  // processes, 62-64 s with 4 and 68 s with 5 (an earlier suite, with twice the npm starts: 87 s with 2, 78 s with 3).
  jobs: Math.max(4, availableParallelism() + 2),
  spec: [...heavy, ...files.filter((file) => !heavy.includes(file))],
};
