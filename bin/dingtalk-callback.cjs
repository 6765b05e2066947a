#!/usr/bin/env node
// The `dingtalk-callback` command: runs the TypeScript CLI through tsx, so there is no build step.
require('tsx/cjs');
require('../cli/main.ts')
  .main(process.argv.slice(2))
  .then((status) => { process.exitCode = status; })
  .catch((error) => {
    process.stderr.write(`dingtalk-callback: ${error && error.stack ? error.stack : error}\n`);
    process.exitCode = 1;
  });
