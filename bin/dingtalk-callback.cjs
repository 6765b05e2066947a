#!/usr/bin/env node
// The `dingtalk-callback` command: runs the TypeScript CLI through tsx, so there is no build step.
// The AWS SDK warns on Node.js 20 of a support change to come; for a command-line tool that is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// A reader that stops early (`dingtalk-callback events | head -1`) closes the pipe: that is not an
// error, so the command ends quietly, as other command-line tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}
require('tsx/cjs');
require('../cli/main.ts')
  .main(process.argv.slice(2))
  .then((status) => { process.exitCode = status; })
  .catch((error) => {
    process.stderr.write(`dingtalk-callback: ${error && error.stack ? error.stack : error}\n`);
    process.exitCode = 1;
  });
