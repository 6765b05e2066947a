import { expect } from 'chai';
import { inspect } from 'node:util';
import { ConfigError } from '../../core/errors';
import { loadSettings } from '../../core/settings';
import { SAMPLE_ENV } from '../../testkit/fixtures';

function configErrorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadSettings(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('loadSettings accepted the environment');
}

describe('core/settings', function () {
  it('loads the published sample', function () {
    const settings = loadSettings(SAMPLE_ENV);
    expect(settings.token).to.equal('mryue');
    expect(settings.aesKey).to.have.length(32);
    expect(settings.ownerKeys).to.deep.equal(['ding6ccabc44d2c8d38b']);
    expect(settings.maxSkewSeconds).to.equal(0);
  });

  it('accepts a comma-separated list of owner keys, trimming blanks', function () {
    expect(loadSettings({ ...SAMPLE_ENV, DINGTALK_OWNER_KEY: ' dingcorp1, suiteabc ,,appkey2' }).ownerKeys).to.deep.equal(['dingcorp1', 'suiteabc', 'appkey2']);
  });

  const bad: Array<[string, Record<string, string | undefined>, string]> = [
    ['a missing token', { ...SAMPLE_ENV, DINGTALK_TOKEN: undefined }, 'DINGTALK_TOKEN'],
    ['a blank token', { ...SAMPLE_ENV, DINGTALK_TOKEN: '  ' }, 'DINGTALK_TOKEN'],
    ['a missing AES key', { ...SAMPLE_ENV, DINGTALK_AES_KEY: undefined }, 'DINGTALK_AES_KEY'],
    ['a 42-character AES key', { ...SAMPLE_ENV, DINGTALK_AES_KEY: SAMPLE_ENV.DINGTALK_AES_KEY.slice(1) }, 'DINGTALK_AES_KEY'],
    ['a 44-character AES key', { ...SAMPLE_ENV, DINGTALK_AES_KEY: `${SAMPLE_ENV.DINGTALK_AES_KEY}A` }, 'DINGTALK_AES_KEY'],
    ['an AES key outside the base64 alphabet', { ...SAMPLE_ENV, DINGTALK_AES_KEY: `${SAMPLE_ENV.DINGTALK_AES_KEY.slice(1)}-` }, 'DINGTALK_AES_KEY'],
    ['a missing owner key', { ...SAMPLE_ENV, DINGTALK_OWNER_KEY: undefined }, 'DINGTALK_OWNER_KEY'],
    ['an owner key list of commas', { ...SAMPLE_ENV, DINGTALK_OWNER_KEY: ' , ,' }, 'DINGTALK_OWNER_KEY'],
    ['a negative skew', { ...SAMPLE_ENV, DINGTALK_MAX_SKEW_SECONDS: '-5' }, 'DINGTALK_MAX_SKEW_SECONDS'],
    ['a skew that is not a number', { ...SAMPLE_ENV, DINGTALK_MAX_SKEW_SECONDS: '5 minutes' }, 'DINGTALK_MAX_SKEW_SECONDS'],
  ];
  for (const [what, env, variable] of bad) {
    it(`fails on ${what}, naming ${variable}`, function () {
      const error = configErrorOf(env);
      expect(error.variable).to.equal(variable);
      expect(error.message).to.match(new RegExp(`^${variable}: `));
    });
  }

  it('names every missing or invalid variable at once, in one line, without their values', function () {
    const error = configErrorOf({ DINGTALK_AES_KEY: 'secret-but-short', DINGTALK_MAX_SKEW_SECONDS: 'soon' });
    expect(error.problems.map((problem) => problem.variable)).to.deep.equal(['DINGTALK_TOKEN', 'DINGTALK_AES_KEY', 'DINGTALK_OWNER_KEY', 'DINGTALK_MAX_SKEW_SECONDS']);
    expect(error.message).to.match(/^DINGTALK_TOKEN: is not set; DINGTALK_AES_KEY: must be exactly 43 .*; DINGTALK_OWNER_KEY: is not set; DINGTALK_MAX_SKEW_SECONDS: must be/);
    expect(error.message).not.to.include('\n');
    expect(error.message).not.to.include('secret-but-short');
  });

  it('never shows its secrets when logged or serialised', function () {
    const settings = loadSettings(SAMPLE_ENV);
    for (const shown of [JSON.stringify(settings), inspect(settings), `${inspect({ settings })}`]) {
      expect(shown).to.not.include('mryue');
      expect(shown).to.not.include(SAMPLE_ENV.DINGTALK_AES_KEY.slice(0, 10));
      expect(shown).to.include('[redacted]');
    }
  });

  it('never puts the rejected key in the error message', function () {
    const key = `${SAMPLE_ENV.DINGTALK_AES_KEY}XYZ`;
    expect(configErrorOf({ ...SAMPLE_ENV, DINGTALK_AES_KEY: key }).message).to.not.include(key.slice(0, 10));
  });
});
