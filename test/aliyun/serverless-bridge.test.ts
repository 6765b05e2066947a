import { expect } from 'chai';
import { triggerSpecs } from '../../deploy/aliyun/fc-triggers';
import { AliyunBridge } from '../../deploy/aliyun/serverless-bridge';
import { SAMPLE_ENV } from '../../testkit/fixtures';

describe('deploy/aliyun/serverless-bridge', function () {
  describe('packaging checks', function () {
    /** The bridge over a service whose one function (the callback, unless `fn` says otherwise) has `environment`. */
    type Fn = { name: string; handler: string; events?: object[]; environment?: Record<string, string> };
    function bridgeWith(environment: Record<string, string>, fn: Fn | Fn[] = { name: 'dingtalk-callback-dev-callback', handler: 'handlers/aliyun/callback.handler' }, unreadableCredentials = false) {
      const provider: { environment: Record<string, string>; ramRoleStatements?: object[]; credentials?: string } = { environment, credentials: '~/.aliyun_credentials' };
      const logged: string[] = [];
      const fns = [fn].flat();
      const serverless = {
        service: { provider, getAllFunctions: () => fns.map((_, key) => String(key)), getFunction: (key: string) => fns[Number(key)] },
        classes: { Error },
        cli: { log: (line: string) => logged.push(line) },
        configSchemaHandler: { defineProvider: () => {} },
        getProvider: () => ({
          get key() {
            if (unreadableCredentials) throw new Error('ENOENT: no such file or directory');
            return {};
          },
        }),
      } as unknown as ConstructorParameters<typeof AliyunBridge>[0];
      return { provider, logged, initialize: new AliyunBridge(serverless, { region: 'cn-shanghai' }).hooks['before:package:initialize']! };
    }
    const complete = { ...SAMPLE_ENV, EVENTS_TABLE: 'events', TABLESTORE_INSTANCE: 'My-Instance', TABLESTORE_ENDPOINT: 'https://my-instance.cn-shanghai.ots.aliyuncs.com' };

    for (const variable of ['DINGTALK_TOKEN', 'DINGTALK_AES_KEY', 'TABLESTORE_INSTANCE', 'TABLESTORE_ENDPOINT', 'EVENTS_TABLE']) {
      it(`refuses to package without ${variable}, naming it`, async function () {
        const failure = await bridgeWith({ ...complete, [variable]: '' })
          .initialize()
          .catch((error: Error) => error);
        expect(failure).to.be.instanceOf(Error);
        expect((failure as Error).message).to.contain(variable);
      });
    }

    it('names the missing settings and an unreadable credentials file in one refusal', async function () {
      const failure = await bridgeWith({ ...complete, DINGTALK_TOKEN: '' }, undefined, true).initialize().catch((error: Error) => error);
      expect((failure as Error).message).to.match(/^DINGTALK_TOKEN: is not set \(.*\)\ncannot read the Alibaba Cloud credentials file ~\/\.aliyun_credentials \(ENOENT/);
      const onlyFile = await bridgeWith(complete, undefined, true).initialize().catch((error: Error) => error);
      expect((onlyFile as Error).message).to.match(/^cannot read the Alibaba Cloud credentials file/);
    });

    it('grants PutRow on the table, naming the instance in lower case as RAM expects', async function () {
      const { provider, initialize } = bridgeWith(complete);
      await initialize();
      expect(provider.ramRoleStatements).to.deep.equal([{ Effect: 'Allow', Action: ['ots:PutRow'], Resource: ['acs:ots:cn-shanghai:*:instance/my-instance/table/events'] }]);
    });

    describe('the recover function', function () {
      const recover = (timer: object) => ({ name: 'dingtalk-callback-dev-recover', handler: 'handlers/aliyun/recover.handler', events: [{ timer }] });
      const inbox = { ...complete, RECOVER_INBOX_TABLE: 'events_inbox' };

      it('refuses to package with its timer on and no DingTalk app, naming both variables and the switch that turns it off', async function () {
        const failure = await bridgeWith(inbox, recover({ cronExpression: '@every 10m' })).initialize().catch((error: Error) => error);
        expect((failure as Error).message).to.match(/^DINGTALK_APP_KEY: is not set; DINGTALK_APP_SECRET: is not set \(.*\); DINGTALK_RECOVER_ENABLED=false deploys `recover` with its timer off/);
      });

      it('names what every function lacks in one message, not one function at a time', async function () {
        const callback = { name: 'dingtalk-callback-dev-callback', handler: 'handlers/aliyun/callback.handler' };
        const withInbox = { ...recover({ cronExpression: '@every 10m' }), environment: { RECOVER_INBOX_TABLE: 'events_inbox' } };
        const failure = await bridgeWith({ ...complete, DINGTALK_TOKEN: '', TABLESTORE_INSTANCE: '' }, [callback, withInbox]).initialize().catch((error: Error) => error);
        expect((failure as Error).message).to.match(/^DINGTALK_TOKEN: is not set; TABLESTORE_INSTANCE: is not set; DINGTALK_APP_KEY: is not set; DINGTALK_APP_SECRET: is not set \(/);
      });

      it('packages with its timer off and no DingTalk app, saying the failed list is not pulled', async function () {
        const { logged, initialize } = bridgeWith(inbox, recover({ cronExpression: '@every 10m', enable: false }));
        await initialize();
        expect(logged).to.deep.equal([
          "DingTalk server-API calls a month on these schedules: 0, 0% of the standard edition's 5,000 (docs/recover.md, docs/stream.md)",
          "  recover: off, so DingTalk's failed list is not pulled; `dingtalk-callback recover` pulls it by hand",
          '  stream: off, so no DingTalk Stream connection is held and an app in Stream mode receives nothing here (DINGTALK_STREAM_ENABLED=true holds one)',
        ]);
      });

      it('asks Function Compute for a timer trigger that is off, with its schedule kept', function () {
        const context = { accountId: '1234567890123456', region: 'cn-shanghai', serviceName: 'dingtalk-callback-dev', functionName: 'dingtalk-callback-dev-recover', functionKey: 'recover', env: inbox };
        const [off] = triggerSpecs([{ timer: { cronExpression: '@every 10m', enable: false } }], context);
        expect(off).to.deep.include({ triggerName: 'timer', triggerType: 'timer', triggerConfig: { cronExpression: '@every 10m', enable: false } });
      });

      it('packages with its timer on and the app set, saying what its schedule costs, and what to do past half the quota', async function () {
        const app = { ...inbox, DINGTALK_APP_KEY: 'dingapp', DINGTALK_APP_SECRET: 'secret' };
        const every60 = bridgeWith(app, recover({ cronExpression: '@every 60m' }));
        await every60.initialize();
        expect(every60.logged.slice(0, 2)).to.deep.equal([
          "DingTalk server-API calls a month on these schedules: 720, 14% of the standard edition's 5,000 (docs/recover.md, docs/stream.md)",
          '  recover @every 60m: 720 failed-list calls',
        ]);
        const every5 = bridgeWith(app, recover({ cronExpression: '@every 5m' }));
        await every5.initialize();
        expect(every5.logged[0]).to.contain(': 8,640, 173% of');
        expect(every5.logged.at(-1)).to.equal("  that is more than the whole quota, and DingTalk refuses the organisation's calls once it is spent: choose a longer recover interval (hourly is 720)");
      });

      it('counts the stream timer with it, and past half the quota says which one an app in each mode turns off', async function () {
        // As in serverless.aliyun.yml: the inbox is recover's setting, the lease the stream function's.
        const app = { ...complete, DINGTALK_APP_KEY: 'dingapp', DINGTALK_APP_SECRET: 'secret' };
        const pulls = { ...recover({ cronExpression: '@every 60m' }), environment: { RECOVER_INBOX_TABLE: 'events_inbox' } };
        const stream = (cronExpression: string) => ({ name: 'dingtalk-callback-dev-stream', handler: 'handlers/aliyun/stream.handler', events: [{ timer: { cronExpression } }], environment: { DINGTALK_STREAM_LEASE_SECONDS: '540' } });
        const callback = { name: 'dingtalk-callback-dev-callback', handler: 'handlers/aliyun/callback.handler' };
        const both = bridgeWith(app, [callback, pulls, stream('@every 8m')]);
        await both.initialize();
        expect(both.logged).to.deep.equal([
          "DingTalk server-API calls a month on these schedules: 6,120, 122% of the standard edition's 5,000 (docs/recover.md, docs/stream.md)",
          '  recover @every 60m: 720 failed-list calls',
          '  stream @every 8m: 5,400 connections/open calls, counted as DingTalk may count them',
          "  that is more than the whole quota, and DingTalk refuses the organisation's calls once it is spent. An app receives its events one way: in HTTP push mode it needs no Stream relay (DINGTALK_STREAM_ENABLED=false); in Stream mode DingTalk's failed list holds nothing for recover to fetch (DINGTALK_RECOVER_ENABLED=false)",
        ]);
        const callbackOnly = bridgeWith(complete, callback);
        await callbackOnly.initialize();
        expect(callbackOnly.logged, 'no scheduled function, nothing to count').to.deep.equal([]);
      });
    });
  });
});
