// `npm start`: first what the local stack would refuse (bad DINGTALK_* settings, ports taken, the
// data folder another npm start holds), checked by the same code as its plugin (start-checks.ts)
// but before serverless loads its plugins, which takes seconds; then `sls offline start` in this
// process with the same arguments.
const { register } = require('tsx/cjs/api');

const args = process.argv.slice(2);
const unregister = register();
const { preflight } = require('./start-checks.ts');
unregister();

preflight(args, process.env, process.cwd()).then((refusal) => {
  if (refusal) {
    // As serverless prints its own errors.
    process.stderr.write(`\nError:\n${refusal.message}\n`);
    process.exitCode = 1;
    return;
  }
  const serverless = require.resolve('serverless/bin/serverless.js');
  process.argv = [process.argv[0], serverless, 'offline', 'start', '--config', 'serverless.aws.yml', ...args];
  require(serverless);
});
