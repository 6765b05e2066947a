import { expect } from 'chai';
import { ConfigError } from '../../core/errors';
import { loadSsmSettings } from '../../providers/aws/ssm-settings';
import { FakeSsm } from '../../testkit/fake-ssm';
import { SAMPLE_ENV } from '../../testkit/fixtures';

describe('providers/aws/ssm-settings', function () {
  let ssm: FakeSsm;
  beforeEach(async function () {
    ssm = await new FakeSsm().start();
    ssm.parameters.set('/dingtalk-callback/prod/token', SAMPLE_ENV.DINGTALK_TOKEN);
    ssm.parameters.set('/dingtalk-callback/prod/aes-key', SAMPLE_ENV.DINGTALK_AES_KEY);
    ssm.parameters.set('/dingtalk-callback/prod/owner-key', `${SAMPLE_ENV.DINGTALK_OWNER_KEY}, suite2`);
  });
  afterEach(async function () {
    await ssm.stop();
  });

  it('reads the three SecureStrings in one decrypting call', async function () {
    const settings = await loadSsmSettings('/dingtalk-callback/prod/', { DINGTALK_MAX_SKEW_SECONDS: '300' }, ssm.jsonClient());
    expect(settings.token).to.equal(SAMPLE_ENV.DINGTALK_TOKEN);
    expect(settings.aesKey).to.have.length(32);
    expect(settings.ownerKeys).to.deep.equal([SAMPLE_ENV.DINGTALK_OWNER_KEY, 'suite2']);
    expect(settings.maxSkewSeconds).to.equal(300);
    expect(ssm.requests).to.deep.equal([
      { Names: ['/dingtalk-callback/prod/token', '/dingtalk-callback/prod/aes-key', '/dingtalk-callback/prod/owner-key'], WithDecryption: true },
    ]);
  });

  it('prefers SSM over the environment for the secrets', async function () {
    const settings = await loadSsmSettings('/dingtalk-callback/prod', { DINGTALK_TOKEN: 'from-env' }, ssm.jsonClient());
    expect(settings.token).to.equal(SAMPLE_ENV.DINGTALK_TOKEN);
  });

  it('names the missing parameters', async function () {
    ssm.parameters.delete('/dingtalk-callback/prod/aes-key');
    ssm.parameters.delete('/dingtalk-callback/prod/token');
    const failure = await loadSsmSettings('/dingtalk-callback/prod', {}, ssm.jsonClient()).catch((error: unknown) => error);
    expect(failure).to.be.instanceOf(ConfigError);
    expect((failure as ConfigError).variable).to.equal('DINGTALK_SSM_PREFIX');
    expect((failure as Error).message).to.equal('DINGTALK_SSM_PREFIX: SSM has no parameter /dingtalk-callback/prod/aes-key, /dingtalk-callback/prod/token');
  });

  it('names the parameter holding an invalid value, without quoting it', async function () {
    ssm.parameters.set('/dingtalk-callback/prod/aes-key', 'too-short-secret');
    const failure = await loadSsmSettings('/dingtalk-callback/prod', {}, ssm.jsonClient()).catch((error: unknown) => error);
    expect(failure).to.be.instanceOf(ConfigError);
    expect((failure as ConfigError).variable).to.equal('/dingtalk-callback/prod/aes-key');
    expect((failure as Error).message).to.match(/^\/dingtalk-callback\/prod\/aes-key: must be exactly 43/);
    expect((failure as Error).message).not.to.include('too-short-secret');
  });
});
