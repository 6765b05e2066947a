// What the recover and stream schedules cost in DingTalk server-API calls, said at every package and
// deploy (docs/recover.md, docs/stream.md): recover's failed-list calls and the stream function's
// connections/open calls, out of the organisation's 5,000 a month, and what to do past half of them.
// core/quota.ts is TypeScript, so it is compiled on the fly with tsx, as the Alibaba bridge is.
const { register } = require('tsx/cjs/api');

const unregister = register();
const { scheduledApiCallsReport } = require('../../core/quota.ts');
unregister();

/** The rate of the function's first schedule that is on, if any. */
function enabledSchedule(service, name) {
  if (!service.getAllFunctions().includes(name)) return undefined;
  for (const event of service.getFunction(name).events ?? []) {
    const schedule = event.schedule;
    if (!schedule || String(schedule.enabled) === 'false') continue;
    return String([typeof schedule === 'string' ? schedule : schedule.rate].flat()[0]);
  }
  return undefined;
}

module.exports = class DingTalkApiBudget {
  constructor(serverless) {
    this.hooks = {
      'after:package:compileEvents': () => {
        const { service } = serverless;
        const schedules = { recover: enabledSchedule(service, 'recover'), stream: enabledSchedule(service, 'stream') };
        for (const line of scheduledApiCallsReport('aws', schedules)) serverless.cli.log(line);
      },
    };
  }
};
