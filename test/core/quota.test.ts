import { expect } from 'chai';
import { runsPerMonth, scheduledApiCalls, scheduledApiCallsReport } from '../../core/quota';

describe('what a schedule costs in DingTalk API calls (core/quota.ts)', function () {
  it('counts the runs of a 30-day month for AWS rates and Function Compute timers, and none for a cron expression', function () {
    const runs = Object.fromEntries(['rate(1 hour)', 'rate(10 minutes)', 'rate(1 minute)', 'rate(2 days)', '@every 60m', '@every 1h30m', '@every 5m', '@every 90s', 'cron(0 * * * ? *)', 'rate(0 hours)', '@every 0m', 'every hour'].map((schedule) => [schedule, runsPerMonth(schedule)]));
    expect(runs).to.deep.equal({
      'rate(1 hour)': 720, 'rate(10 minutes)': 4320, 'rate(1 minute)': 43200, 'rate(2 days)': 15,
      '@every 60m': 720, '@every 1h30m': 480, '@every 5m': 8640, '@every 90s': 28800,
      'cron(0 * * * ? *)': undefined, 'rate(0 hours)': undefined, '@every 0m': undefined, 'every hour': undefined,
    });
  });

  it("adds recover's failed-list calls and the stream function's opens of the schedules that are on, with their share of the standard 5,000", function () {
    expect(scheduledApiCalls({ recover: 'rate(1 hour)', stream: 'rate(12 minutes)' })).to.deep.equal({ recover: 720, streamOpens: 3600, total: 4320, share: 86 });
    expect(scheduledApiCalls({ recover: '@every 60m', stream: '@every 60m' })).to.deep.equal({ recover: 720, streamOpens: 720, total: 1440, share: 29 });
    expect(scheduledApiCalls({ recover: 'rate(1 hour)' })).to.deep.equal({ recover: 720, streamOpens: 0, total: 720, share: 14 });
    expect(scheduledApiCalls({ stream: 'rate(12 minutes)' })).to.deep.equal({ recover: 0, streamOpens: 3600, total: 3600, share: 72 });
    expect(scheduledApiCalls({})).to.deep.equal({ recover: 0, streamOpens: 0, total: 0, share: 0 });
    // A cron expression has no rate: its runs are not in the total.
    expect(scheduledApiCalls({ recover: 'cron(0 * * * ? *)', stream: '@every 60m' })).to.deep.equal({ recover: undefined, streamOpens: 720, total: 720, share: 14 });
  });

  it('reports both schedules at or under half the quota without advice, and says what an off schedule means', function () {
    expect(scheduledApiCallsReport('aliyun', { recover: '@every 60m', stream: '@every 60m' })).to.deep.equal([
      "DingTalk server-API calls a month on these schedules: 1,440, 29% of the standard edition's 5,000 (docs/recover.md, docs/stream.md)",
      '  recover @every 60m: 720 failed-list calls',
      '  stream @every 60m: 720 connections/open calls, counted as DingTalk may count them',
    ]);
    expect(scheduledApiCallsReport('aws', {})).to.deep.equal([
      "DingTalk server-API calls a month on these schedules: 0, 0% of the standard edition's 5,000 (docs/recover.md, docs/stream.md)",
      "  recover: off, so DingTalk's failed list is not pulled; `dingtalk-callback recover` pulls it by hand",
      '  stream: off, so no DingTalk Stream connection is held and an app in Stream mode receives nothing here (--param="streamEnabled=true" holds one)',
    ]);
    expect(scheduledApiCallsReport('aliyun', { recover: 'cron(0 0 * * * *)' })).to.include.members([
      '  recover cron(0 0 * * * *): one failed-list call a run (a cron expression: not in the total)',
      '  stream: off, so no DingTalk Stream connection is held and an app in Stream mode receives nothing here (DINGTALK_STREAM_ENABLED=true holds one)',
    ]);
  });

  it('past half the quota with both on, says an app receives its events one way and names the switch for each mode, in each cloud’s words', function () {
    const aws = scheduledApiCallsReport('aws', { recover: 'rate(1 hour)', stream: 'rate(12 minutes)' });
    expect(aws[0]).to.equal("DingTalk server-API calls a month on these schedules: 4,320, 86% of the standard edition's 5,000 (docs/recover.md, docs/stream.md)");
    expect(aws.slice(1)).to.deep.equal([
      '  recover rate(1 hour): 720 failed-list calls',
      '  stream rate(12 minutes): 3,600 connections/open calls, counted as DingTalk may count them',
      "  that is more than half the quota, which the organisation's other integrations share. An app receives its events one way: in HTTP push mode it needs no Stream relay (--param=\"streamEnabled=false\"); in Stream mode DingTalk's failed list holds nothing for recover to fetch (--param=\"recoverEnabled=false\")",
    ]);
    const aliyun = scheduledApiCallsReport('aliyun', { recover: '@every 10m', stream: '@every 60m' });
    expect(aliyun[0]).to.contain(': 5,040, 101% of');
    expect(aliyun[3]).to.equal("  that is more than the whole quota, and DingTalk refuses the organisation's calls once it is spent. An app receives its events one way: in HTTP push mode it needs no Stream relay (DINGTALK_STREAM_ENABLED=false); in Stream mode DingTalk's failed list holds nothing for recover to fetch (DINGTALK_RECOVER_ENABLED=false)");
  });

  it('past half the quota with one schedule on, says what makes that one cheaper', function () {
    expect(scheduledApiCallsReport('aws', { recover: 'rate(10 minutes)' }).at(-1)).to.equal("  that is more than half the quota, which the organisation's other integrations share: choose a longer recover interval (hourly is 720)");
    expect(scheduledApiCallsReport('aliyun', { recover: '@every 5m' }).at(-1)).to.equal("  that is more than the whole quota, and DingTalk refuses the organisation's calls once it is spent: choose a longer recover interval (hourly is 720)");
    expect(scheduledApiCallsReport('aws', { stream: 'rate(12 minutes)' }).at(-1)).to.equal("  that is more than half the quota, which the organisation's other integrations share: each run of the stream function opens one connection, so fewer, longer leases open fewer (docs/stream.md)");
    expect(scheduledApiCallsReport('aws', { recover: 'rate(2 hours)', stream: 'rate(30 minutes)' })).to.have.length(3);
  });
});
