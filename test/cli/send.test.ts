import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMessage, toRecord } from '../../core/events';
import { loadForwardSettings } from '../../core/forward-settings';
import { loadSettings } from '../../core/settings';
import { EVENT_FAMILIES, samplePayload } from '../../cli/event-payloads';
import { DEV_CREDENTIALS } from '../../providers/local/dev-credentials';
import { startCallbackServer, type CallbackServer } from '../../testkit/callback-server';
import { CLEAN_ENV, runCli } from '../../testkit/cli';

const DEV_OWNER = DEV_CREDENTIALS.DINGTALK_OWNER_KEY;

describe('dingtalk-callback keygen and send', function () {
  let server: CallbackServer;
  before(async function () {
    server = await startCallbackServer(loadSettings(DEV_CREDENTIALS));
  });
  after(async function () {
    await server.close();
  });

  it('keygen prints a token, a key and a webhook secret that the functions accept', async function () {
    const { status, stdout } = await runCli(['keygen']);
    expect(status).to.equal(0);
    const env = Object.fromEntries(stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    expect(loadForwardSettings({ DINGTALK_FORWARD_URL: 'https://example.com/', DINGTALK_FORWARD_SECRET: env.DINGTALK_FORWARD_SECRET }).webhook).to.not.equal(undefined);
    expect(env.DINGTALK_TOKEN).to.match(/^[A-Za-z0-9]{32}$/);
    expect(env.DINGTALK_AES_KEY).to.match(/^[A-Za-z0-9]{43}$/);
    expect(loadSettings({ ...env, DINGTALK_OWNER_KEY: 'dingcorp' }).aesKey).to.have.length(32);
    expect((await runCli(['keygen'])).stdout).to.not.equal(stdout);
  });

  it('builds a payload for every event type that the core turns into a record', function () {
    for (const eventType of Object.values(EVENT_FAMILIES).flat()) {
      const text = JSON.stringify(samplePayload(eventType, DEV_OWNER));
      const message = parseMessage(Buffer.from(text));
      expect(message.eventType).to.equal(eventType);
      expect(toRecord(message, DEV_OWNER, new Date()).payload).to.equal(text);
    }
    expect(JSON.parse(JSON.stringify(samplePayload('attendance_check_record', DEV_OWNER, 300))).DataList).to.have.length(300);
  });

  for (const eventType of ['user_add_org', 'bpms_instance_change', 'attendance_check_record', 'suite_ticket', 'chat_add_member', 'SYNC_HTTP_PUSH_HIGH', 'some_future_event']) {
    it(`sends ${eventType} with the development credentials and stores it`, async function () {
      const { status, stdout, stderr } = await runCli(['send', eventType, '--url', server.url]);
      expect(status, stderr).to.equal(0);
      expect(stderr).to.include('development credentials');
      const id = / id (\S+)/.exec(stdout)?.[1];
      expect(stdout).to.match(new RegExp(`^ok ${eventType}: 200 success in \\d+\\.\\d ms id `));
      const record = await server.store.get(String(id));
      expect(record?.eventType).to.equal(eventType);
      expect(JSON.parse(String(record?.payload)).EventType).to.equal(eventType);
    });
  }

  for (const handshake of ['check_url', 'check_update_suite_url']) {
    it(`sends ${handshake}, which is answered and not stored`, async function () {
      const before = (await server.store.list()).records.length;
      const { status, stdout } = await runCli(['send', handshake, '--url', server.url]);
      expect(status).to.equal(0);
      expect(stdout).to.match(new RegExp(`^ok ${handshake}: 200 success in \\d+\\.\\d ms$`, 'm'));
      expect((await server.store.list()).records).to.have.length(before);
    });
  }

  it('sends a JSON file and standard input verbatim', async function () {
    const text = '{"EventType":"user_leave_org","UserId":["离职员工"],"TimeStamp":"1700000000000","CorpId":"dingdevcorp0000000000"}';
    const file = join(mkdtempSync(join(tmpdir(), 'dingtalk-send-')), 'event.json');
    writeFileSync(file, `${text}\n`);
    const fromFile = await runCli(['send', file, '--url', server.url]);
    expect(fromFile.status, fromFile.stderr).to.equal(0);
    const id = / id (\S+)/.exec(fromFile.stdout)?.[1];
    expect((await server.store.get(String(id)))?.payload).to.equal(text);
    const fromStdin = await runCli(['send', '-', '--url', server.url], { input: text });
    expect(fromStdin.stdout).to.include(` id ${id}`);
  });

  it('sends many fresh events, each stored', async function () {
    const before = (await server.store.list({ eventType: 'org_dept_create' })).records.length;
    const { status, stdout } = await runCli(['send', 'org_dept_create', '--count', '40', '--concurrency', '8', '--url', server.url]);
    expect(status).to.equal(0);
    expect(stdout).to.match(/^sent 40: ok 40, failed 0; 40 distinct events acknowledged$/m);
    expect(stdout).to.match(/latency p50 \d+\.\d ms, p99 \d+\.\d ms/);
    expect((await server.store.list({ eventType: 'org_dept_create' })).records).to.have.length(before + 40);
  });

  it('sends one event many times with --duplicate, stored once', async function () {
    const { status, stdout } = await runCli(['send', 'label_conf_add', '--count', '30', '--concurrency', '10', '--duplicate', '--url', server.url]);
    expect(status).to.equal(0);
    expect(stdout).to.match(/^sent 30: ok 30, failed 0; 1 distinct events acknowledged$/m);
    expect((await server.store.list({ eventType: 'label_conf_add' })).records).to.have.length(1);
  });

  it('exits 1 and says why when the token is wrong', async function () {
    const env = { ...CLEAN_ENV, ...DEV_CREDENTIALS, DINGTALK_TOKEN: 'not-the-token' };
    const { status, stdout } = await runCli(['send', 'user_add_org', '--url', server.url], { env });
    expect(status).to.equal(1);
    expect(stdout).to.match(/^FAILED user_add_org: 401 bad_signature: signature does not match/);
  });

  it('exits 1 when nothing answers', async function () {
    const { status, stdout } = await runCli(['send', 'user_add_org', '--url', 'http://127.0.0.1:1/dingtalk']);
    expect(status).to.equal(1);
    expect(stdout).to.match(/^FAILED user_add_org: could not reach/);
  });

  const usage: Array<[string[], RegExp]> = [
    [['send'], /exactly one event type/],
    [['send', 'user_add_org', '--count', '0'], /--count must be a whole number/],
    [['send', 'user_add_org', '--bogus'], /Unknown option '--bogus'/],
    [['send', 'missing.json'], /missing.json is not a readable JSON file/],
    [['send', 'user_add_org', '--url', 'not a url'], /--url is not a URL/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ];
  for (const [args, message] of usage) {
    it(`exits 2 with a usage message for: ${args.join(' ')}`, async function () {
      const { status, stderr } = await runCli(args);
      expect(status).to.equal(2);
      expect(stderr).to.match(message);
    });
  }

  it('names the variable when the credentials are half set', async function () {
    const { status, stderr } = await runCli(['send', 'user_add_org'], { env: { ...CLEAN_ENV, DINGTALK_TOKEN: 'x' } });
    expect(status).to.equal(2);
    expect(stderr).to.include('DINGTALK_AES_KEY: is not set');
  });

  it('explains itself with --help', async function () {
    for (const args of [['--help'], ['send', '--help'], ['keygen', '--help']]) {
      const { status, stdout } = await runCli(args);
      expect(status).to.equal(0);
      expect(stdout).to.match(/^Usage: dingtalk-callback/);
    }
  });
});
