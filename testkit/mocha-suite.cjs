// The whole suite, as `npm run test:unit` runs it: .mocharc.json's settings, every test/**/*.test.ts
// file in parallel processes (one more than the CPUs, at least three), and the heavy files first. A file is
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
  // One more process than CPUs: many tests wait on a socket, a child process or a timer, and with one
  // process per CPU a core idles meanwhile (2 cores, idle: 87 s with 2 processes, 78 s with 3, 81 s with 4).
  jobs: Math.max(3, availableParallelism() + 1),
  spec: [...heavy, ...files.filter((file) => !heavy.includes(file))],
};
