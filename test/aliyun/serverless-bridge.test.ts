import { expect } from 'chai';
import { AliyunBridge, updatePolicy, type RamClient } from '../../providers/aliyun/serverless-bridge';
import { SAMPLE_ENV } from '../../testkit/fixtures';

/** A RAM client (a control plane that cannot run here) holding one policy document, recording new versions. */
function fakeRam(deployed: object | Error): RamClient & { versions: object[] } {
  const versions: object[] = [];
  return {
    versions,
    getPolicy: async () => {
      if (deployed instanceof Error) throw deployed;
      return { DefaultPolicyVersion: { PolicyDocument: JSON.stringify(deployed) } };
    },
    createPolicyVersion: async (version) => void versions.push(version),
  };
}

const DOCUMENT = { Version: '1', Statement: [{ Effect: 'Allow', Action: ['ots:PutRow'], Resource: ['acs:ots:cn-hangzhou:*:instance/i/table/t'] }] };

describe('providers/aliyun/serverless-bridge', function () {
  describe('updatePolicy', function () {
    it('publishes the template document as the new default version when the deployed one differs', async function () {
      const ram = fakeRam({ Version: '1', Statement: [] });
      await updatePolicy(ram, 'access', DOCUMENT, () => {});
      expect(ram.versions).to.deep.equal([{ PolicyName: 'access', PolicyDocument: JSON.stringify(DOCUMENT), SetAsDefault: true, RotateStrategy: 'DeleteOldestNonDefaultVersionWhenLimitExceeded' }]);
    });

    it('leaves an identical policy alone, whatever the key order', async function () {
      const ram = fakeRam({ Statement: DOCUMENT.Statement, Version: '1' });
      await updatePolicy(ram, 'access', DOCUMENT, () => {});
      expect(ram.versions).to.deep.equal([]);
    });

    it('leaves a missing policy to the provider, which creates it from the template', async function () {
      const ram = fakeRam(Object.assign(new Error('policy does not exist'), { name: 'EntityNotExist.PolicyError' }));
      await updatePolicy(ram, 'access', DOCUMENT, () => {});
      expect(ram.versions).to.deep.equal([]);
    });

    it('fails the deploy on any other RAM error', async function () {
      const ram = fakeRam(Object.assign(new Error('no permission'), { name: 'NoPermission' }));
      const failure = await updatePolicy(ram, 'access', DOCUMENT, () => {}).catch((error: Error) => error);
      expect(failure).to.have.property('name', 'NoPermission');
    });
  });

  describe('packaging checks', function () {
    /** The bridge over a service whose one function has `environment`. */
    function bridgeWith(environment: Record<string, string>) {
      const provider: { environment: Record<string, string>; ramRoleStatements?: object[] } = { environment };
      const serverless = {
        service: { provider, getAllFunctions: () => ['callback'], getFunction: () => ({ name: 'dingtalk-callback-dev-callback', handler: 'handlers/aliyun/callback.handler' }) },
        classes: { Error },
        configSchemaHandler: { defineProvider: () => {} },
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
