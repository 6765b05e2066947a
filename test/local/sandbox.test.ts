import { expect } from 'chai';
import { DEV_CREDENTIALS } from '../../providers/local/dev-credentials';
import { DEV_APP, DingTalkSandbox, failedItemOf, sandboxEnv, withSandbox } from '../../providers/local/dingtalk-sandbox';
import { CLEAN_ENV, runCli } from '../../testkit/cli';
import { call } from '../../testkit/inspector';
import { freePort } from '../../testkit/ports';

describe('DINGTALK_SANDBOX: the local stand-in for DingTalk’s server API', function () {
  it('points the app settings at it with nothing else set, and leaves what is set alone', function () {
    expect(withSandbox({ DINGTALK_SANDBOX: 'true' })).to.deep.equal({
      sandbox: true,
      env: { DINGTALK_SANDBOX: 'true', DINGTALK_APP_KEY: DEV_APP.DINGTALK_APP_KEY, DINGTALK_APP_SECRET: DEV_APP.DINGTALK_APP_SECRET, DINGTALK_STREAM_ENABLED: 'false', DINGTALK_API_BASE: 'http://127.0.0.1:3003' },
    });
    const own = { DINGTALK_SANDBOX: 'TRUE', DINGTALK_APP_KEY: 'dingmine', DINGTALK_APP_SECRET: 'mine', DINGTALK_API_BASE: 'http://localhost:9999' };
    expect(withSandbox(own)).to.deep.equal({ sandbox: true, env: own });
    expect(withSandbox({ DINGTALK_SANDBOX: 'false' })).to.deep.equal({ sandbox: false, env: { DINGTALK_SANDBOX: 'false' } });
    expect(sandboxEnv({ DINGTALK_SANDBOX: 'true' })).to.include(DEV_CREDENTIALS);
    expect(sandboxEnv({})).to.deep.equal({});
  });

  it('parks a message as DingTalk keeps an undelivered one: an approval in bpmsCallBackData, any other event with its own fields', function () {
    expect(failedItemOf({ EventType: 'bpms_task_change', processInstanceId: 'p1' }, 'dingcorp', 5)).to.deep.equal({ call_back_tag: 'bpms_task_change', event_time: 5, bpms_task_change: { corpid: 'dingcorp', bpmsCallBackData: { EventType: 'bpms_task_change', processInstanceId: 'p1' } } });
    expect(failedItemOf({ EventType: 'user_add_org', UserId: ['u1'] }, 'dingcorp', 5)).to.deep.equal({ call_back_tag: 'user_add_org', event_time: 5, user_add_org: { corpid: 'dingcorp', EventType: 'user_add_org', UserId: ['u1'] } });
  });

  it('send --undelivered: refused without DINGTALK_SANDBOX=true or beside --sync or --url; says what to start when nothing answers; the sandbox refuses a message with no EventType, and any request a web page or a DNS-rebound name makes', async function () {
    const off = await runCli(['send', 'user_add_org', '--undelivered']);
    expect([off.status, off.stderr]).to.deep.equal([2, 'dingtalk-callback send: --undelivered parks the push in the local DingTalk sandbox: set DINGTALK_SANDBOX=true, here and for npm start\nRun "dingtalk-callback send --help" for usage.\n']);
    const env = { ...CLEAN_ENV, DINGTALK_SANDBOX: 'true', DINGTALK_API_BASE: `http://127.0.0.1:${await freePort()}` };
    expect((await runCli(['send', '--sync', 'suite_ticket', '--undelivered'], { env })).status).to.equal(2);
    expect((await runCli(['send', 'user_add_org', '--undelivered', '--url', 'http://localhost:3000/dingtalk'], { env })).status).to.equal(2);
    const nobody = await runCli(['send', 'user_add_org', '--undelivered'], { env });
    expect(nobody.status).to.equal(1);
    expect(nobody.stderr).to.contain(`nothing answered at ${env.DINGTALK_API_BASE}: start npm start with DINGTALK_SANDBOX=true`);
    const sandbox = await new DingTalkSandbox().start();
    try {
      const answer = await fetch(`${sandbox.url}/sandbox/undelivered`, { method: 'POST', body: '{"n":1}' });
      expect(await answer.json()).to.deep.equal({ errcode: 40035, errmsg: 'the message needs an EventType' });
      // A web page (any site may POST text/plain) or a DNS-rebound name parks nothing, and reads no token.
      const parked = '{"EventType":"bpms_instance_change","processInstanceId":"forged"}';
      const port = new URL(sandbox.url).port;
      for (const headers of [{ origin: 'http://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { host: `evil.example:${port}` }] as Array<Record<string, string>>) {
        const refused = await call(`${sandbox.url}/sandbox/undelivered`, { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body: parked });
        expect(refused.status, JSON.stringify(headers)).to.equal(403);
        expect(Object.keys(refused.json())).to.deep.equal(['error', 'message']);
      }
      const token = await call(`${sandbox.url}/gettoken?appkey=${sandbox.appKey}&appsecret=${sandbox.appSecret}`, { headers: { 'sec-fetch-site': 'cross-site' } });
      expect(token.status).to.equal(403);
      expect(token.text).to.not.include('access_token');
      expect(sandbox.failed).to.deep.equal([]);
      expect((await call(`${sandbox.url}/sandbox/undelivered`, { method: 'POST', body: parked })).status).to.equal(200);
      expect(sandbox.failed).to.have.length(1);
    } finally {
      await sandbox.stop();
    }
  });
});
