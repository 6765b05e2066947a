// What the recover function's schedule costs in DingTalk server-API calls, said at every package and
// deploy (docs/recover.md): one failed-list call a run, out of the organisation's 5,000 a month.
// core/quota.ts is TypeScript, so it is compiled on the fly with tsx, as the Alibaba bridge is.
const { register } = require('tsx/cjs/api');

const unregister = register();
const { recoverScheduleCost } = require('../../core/quota.ts');
unregister();

module.exports = class RecoverBudget {
  constructor(serverless) {
    this.hooks = {
      'after:package:compileEvents': () => {
        const { service } = serverless;
        if (!service.getAllFunctions().includes('recover')) return;
        for (const event of service.getFunction('recover').events ?? []) {
          const schedule = event.schedule;
          if (!schedule || String(schedule.enabled) === 'false') continue;
          const rates = [typeof schedule === 'string' ? schedule : schedule.rate].flat();
          for (const rate of rates) serverless.cli.log(recoverScheduleCost(String(rate)));
        }
      },
    };
  }
};
