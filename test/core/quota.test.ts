import { expect } from 'chai';
import { recoverScheduleCost, runsPerMonth } from '../../core/quota';

describe('what a schedule costs in DingTalk API calls (core/quota.ts)', function () {
  it('counts the runs of a 30-day month for AWS rates and Function Compute timers, and none for a cron expression', function () {
    const runs = Object.fromEntries(['rate(1 hour)', 'rate(10 minutes)', 'rate(1 minute)', 'rate(2 days)', '@every 60m', '@every 1h30m', '@every 5m', '@every 90s', 'cron(0 * * * ? *)', 'rate(0 hours)', '@every 0m', 'every hour'].map((schedule) => [schedule, runsPerMonth(schedule)]));
    expect(runs).to.deep.equal({
      'rate(1 hour)': 720, 'rate(10 minutes)': 4320, 'rate(1 minute)': 43200, 'rate(2 days)': 15,
      '@every 60m': 720, '@every 1h30m': 480, '@every 5m': 8640, '@every 90s': 28800,
      'cron(0 * * * ? *)': undefined, 'rate(0 hours)': undefined, '@every 0m': undefined, 'every hour': undefined,
    });
  });

  it('says the calls and their share of the standard edition, and what to do when a schedule spends more than the whole quota', function () {
    expect(recoverScheduleCost('@every 60m')).to.equal("recover runs @every 60m: 720 failed-list calls a month, 14% of the standard edition's 5,000 server-API calls (docs/recover.md)");
    expect(recoverScheduleCost('rate(5 minutes)')).to.equal("recover runs rate(5 minutes): 8,640 failed-list calls a month, 173% of the standard edition's 5,000 server-API calls (docs/recover.md); that is more than the whole quota: choose a longer interval (hourly is 720)");
    expect(recoverScheduleCost('cron(0 * * * ? *)')).to.equal("recover runs on cron(0 * * * ? *): each run is one of the organisation's 5,000 server-API calls a month (docs/recover.md)");
  });
});
