// The whole suite, as `npm run test:unit` runs it: .mocharc.json's settings, every test/**/*.test.ts
// file in parallel processes (one per CPU, at least two), and the heavy files first. A file is
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
  jobs: Math.max(2, availableParallelism()),
  spec: [...heavy, ...files.filter((file) => !heavy.includes(file))],
};
