#!/usr/bin/env node
// The `dingtalk-callback` command: runs the TypeScript CLI through tsx, so there is no build step.
// The AWS SDK warns on Node.js 20 of a support change to come; for a command-line tool that is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
require('../cli/main.ts')
  .main(process.argv.slice(2))
  .then((status) => { process.exitCode = status; })
  .catch((error) => {
    process.stderr.write(`dingtalk-callback: ${error && error.stack ? error.stack : error}\n`);
    process.exitCode = 1;
  });
