import { expect } from 'chai';
import { AliyunBridge } from '../../providers/aliyun/serverless-bridge';
import { SAMPLE_ENV } from '../../testkit/fixtures';

describe('providers/aliyun/serverless-bridge', function () {
  describe('packaging checks', function () {
    /** The bridge over a service whose one function has `environment`. */
    function bridgeWith(environment: Record<string, string>) {
      const provider: { environment: Record<string, string>; ramRoleStatements?: object[] } = { environment };
      const serverless = {
        service: { provider, getAllFunctions: () => ['callback'], getFunction: () => ({ name: 'dingtalk-callback-dev-callback', handler: 'handlers/aliyun/callback.handler' }) },
        classes: { Error },
        configSchemaHandler: { defineProvider: () => {} },
        getProvider: () => ({ key: {} }),
      } as unknown as ConstructorParameters<typeof AliyunBridge>[0];
      return { provider, initialize: new AliyunBridge(serverless, { region: 'cn-shanghai' }).hooks['before:package:initialize']! };
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

    it('grants PutRow on the table, naming the instance in lower case as RAM expects', async function () {
      const { provider, initialize } = bridgeWith(complete);
      await initialize();
      expect(provider.ramRoleStatements).to.deep.equal([{ Effect: 'Allow', Action: ['ots:PutRow'], Resource: ['acs:ots:cn-shanghai:*:instance/my-instance/table/events'] }]);
    });
  });
});
