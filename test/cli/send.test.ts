import { expect } from 'chai';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMessage, toRecord } from '../../core/events';
import { loadForwardSettings } from '../../core/forward-settings';
import { loadSettings } from '../../core/settings';
import { EVENT_FAMILIES, samplePayload } from '../../cli/event-payloads';
import { load } from '../../cli/load';
import { version } from '../../cli/main';
import { send } from '../../cli/send';
import { DEV_CREDENTIALS } from '../../providers/local/dev-credentials';
import { startCallbackServer, type CallbackServer } from '../../testkit/callback-server';
import { CLEAN_ENV, runBin, runCli } from '../../testkit/cli';
import { freePort, listenOnLoopback } from '../../testkit/ports';

const DEV_OWNER = DEV_CREDENTIALS.DINGTALK_OWNER_KEY;

describe('the dingtalk-callback command, in a process of its own', function () {
  it('runs: prints its version, and sends what it reads on standard input verbatim', async function () {
    const server = await startCallbackServer(loadSettings(DEV_CREDENTIALS));
    try {
      const { status, stdout } = await runBin(['--version']);
      expect([status, stdout]).to.deep.equal([0, `dingtalk-callback ${version()}\n`]);
      expect(version()).to.match(/^\d+\.\d+\.\d+/);
      const text = '{"EventType":"user_leave_org","UserId":["离职员工"],"TimeStamp":"1700000000000","CorpId":"dingdevcorp0000000000"}';
      const fromStdin = await runBin(['send', '-', '--url', server.url], { input: text });
      expect(fromStdin.status, fromStdin.stderr).to.equal(0);
      expect(fromStdin.stdout).to.match(/^ok user_leave_org: 200 success in /);
      const id = / id (\S+)/.exec(fromStdin.stdout)?.[1];
      expect((await server.store.get(String(id)))?.payload).to.equal(text);
    } finally {
      await server.close();
    }
  });
});

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

  for (const eventType of ['user_add_org', 'bpms_instance_change', 'attendance_check_record', 'suite_ticket', 'chat_add_member', 'some_future_event']) {
    it(`sends ${eventType} with the development credentials and stores it`, async function () {
      const { status, stdout, stderr } = await runCli(['send', eventType, '--url', server.url]);
      expect(status, stderr).to.equal(0);
      expect(stderr).to.include('development credentials');
      const id = / id (\S+)/.exec(stdout)?.[1];
      // A suite URL check is answered with its Random, anything else with "success".
      expect(stdout).to.match(new RegExp(`^ok ${eventType}: 200 ${eventType.startsWith('check_') ? '(?!success)\\S+' : 'success'} in \\d+\\.\\d ms id `));
      const record = await server.store.get(String(id));
      expect(record?.eventType).to.equal(eventType);
      expect(JSON.parse(String(record?.payload)).EventType).to.equal(eventType);
    });
  }

  for (const [action, pushType] of [['suite_ticket', 'SYNC_HTTP_PUSH_HIGH'], ['org_suite_auth', 'SYNC_HTTP_PUSH_HIGH'], ['org_dept_create', 'SYNC_HTTP_PUSH_MEDIUM']]) {
    it(`send --sync ${action} --rows 4 plays a SyncHTTP push whose rows are stored one by one`, async function () {
      const { status, stdout, stderr } = await runCli(['send', '--sync', String(action), '--rows', '4', '--url', server.url]);
      expect(status, stderr).to.equal(0);
      expect(stdout).to.match(new RegExp(`^ok ${pushType}: 200 success in \\d+\\.\\d ms, 4 rows( id \\S+){4}\n$`));
      const ids = [...stdout.matchAll(/ id (\S+)/g)].map((match) => match[1]);
      const records = await Promise.all(ids.map((id) => server.store.get(String(id))));
      expect(records.map((record) => [record?.source, record?.eventType])).to.deep.equal(Array(4).fill(['sync', action]));
      expect(new Set(ids).size).to.equal(4);
    });
  }

  it('send --sync refuses an unknown action, naming the nearest, and an event type beside it', async function () {
    const misspelt = await runCli(['send', '--sync', 'suite_tiket', '--url', server.url]);
    expect([misspelt.status, misspelt.stderr]).to.deep.equal([2, misspelt.stderr]);
    expect(misspelt.stderr).to.include('(did you mean suite_ticket?)');
    expect((await runCli(['send', 'user_add_org', '--sync', 'suite_ticket', '--url', server.url])).status).to.equal(2);
    expect((await runCli(['send', 'user_add_org', '--rows', '3', '--url', server.url])).status).to.equal(2);
  });

  it('prints what the reply decrypts to: the Random of a suite URL check, which is not stored', async function () {
    const before = (await server.store.list()).records.length;
    const { status, stdout } = await runCli(['send', 'check_create_suite_url', '--url', server.url]);
    expect(status).to.equal(0);
    const [, reply] = /^ok check_create_suite_url: 200 (\S+) in \d+\.\d ms$/m.exec(stdout) ?? [];
    expect(reply).to.be.a('string').and.not.equal('success');
    expect((await server.store.list()).records).to.have.length(before);
  });

  it('sends check_url, which is answered and not stored', async function () {
    const before = (await server.store.list()).records.length;
    const { status, stdout } = await runCli(['send', 'check_url', '--url', server.url]);
    expect(status).to.equal(0);
    expect(stdout).to.match(/^ok check_url: 200 success/);
    expect((await server.store.list()).records).to.have.length(before);
  });

  it('sends a JSON file verbatim, and labels the result with its event type', async function () {
    const text = '{"EventType":"user_leave_org","UserId":["离职员工"],"TimeStamp":"1700000000001","CorpId":"dingdevcorp0000000000"}';
    const file = join(mkdtempSync(join(tmpdir(), 'dingtalk-send-')), 'event.json');
    writeFileSync(file, `${text}\n`);
    const fromFile = await runCli(['send', file, '--url', server.url]);
    expect(fromFile.status, fromFile.stderr).to.equal(0);
    expect(fromFile.stdout).to.match(/^ok user_leave_org: 200 success in /);
    const id = / id (\S+)/.exec(fromFile.stdout)?.[1];
    expect((await server.store.get(String(id)))?.payload).to.equal(text);
  });

  it('sends many fresh events, each stored', async function () {
    const before = (await server.store.list({ eventType: 'org_dept_create' })).records.length;
    const { status, stdout } = await runCli(['send', 'org_dept_create', '--count', '40', '--concurrency', '8', '--url', server.url]);
    expect(status).to.equal(0);
    expect(stdout).to.match(/^sent 40: ok 40, failed 0; 40 distinct events acknowledged$/m);
    expect(stdout).to.match(/latency p50 \d+\.\d ms, p99 \d+\.\d ms \(DingTalk waits 2\.5 s for an HTTP push, 1\.5 s for a legacy callback\)/);
    expect((await server.store.list({ eventType: 'org_dept_create' })).records).to.have.length(before + 40);
  });

  it('sends one event many times with --duplicate, stored once', async function () {
    const { status, stdout } = await runCli(['send', 'label_conf_add', '--count', '30', '--concurrency', '10', '--duplicate', '--url', server.url]);
    expect(status).to.equal(0);
    expect(stdout).to.match(/^sent 30: ok 30, failed 0; 1 distinct event acknowledged$/m);
    expect((await server.store.list({ eventType: 'label_conf_add' })).records).to.have.length(1);
  });

  it('exits 1 and says why when the token is wrong, and that the function may use other credentials', async function () {
    const env = { ...CLEAN_ENV, ...DEV_CREDENTIALS, DINGTALK_TOKEN: 'not-the-token' };
    for (const args of [['send', 'user_add_org'], ['send', 'user_add_org', '--count', '2'], ['load', '--count', '2', '--no-verify']]) {
      const { status, stdout, stderr } = await runCli([...args, '--url', server.url], { env });
      expect(status, args.join(' ')).to.equal(1);
      expect(stdout).to.match(/^(FAILED user_add_org: | {2}\d x )401 bad_signature: signature does not match/m);
      expect(stderr).to.include(`the function at ${server.url} refused the signature: it may use other credentials than these (npm start prints the ones it uses); set DINGTALK_TOKEN, DINGTALK_AES_KEY and DINGTALK_OWNER_KEY to the function's\n`);
    }
    // Other failures are not put down to the credentials.
    const elsewhere = await runCli(['send', 'user_add_org', '--owner-key', 'dingothercorp', '--url', server.url]);
    expect(elsewhere.stdout).to.match(/^FAILED user_add_org: 4(?!01)\d\d /);
    expect(elsewhere.stderr).not.to.include('credentials than these');
  });

  it('says a misspelt event type is not a known one, names the nearest, and that it went as a generic event', async function () {
    const typo = await runCli(['send', 'user_ad_org', '--url', server.url]);
    expect(typo.status, typo.stderr).to.equal(0);
    expect(typo.stderr).to.include('user_ad_org is not a known event type (did you mean user_add_org?): it is sent as a generic event\n');
    const id = / id (\S+)/.exec(typo.stdout)?.[1];
    expect((await server.store.get(String(id)))?.eventType).to.equal('user_ad_org');
    const unknown = await runCli(['send', 'hrm_user_record_change', '--url', server.url]);
    expect(unknown.stderr).to.include('hrm_user_record_change is not a known event type: it is sent as a generic event\n');
    expect((await runCli(['send', 'user_add_org', '--url', server.url])).stderr).not.to.include('not a known event type');
  });

  it('says a --url without http:// lacks its scheme, and sends nothing', async function () {
    const before = (await server.store.list()).records.length;
    const bare = server.url.replace(/^http:\/\//, '');
    for (const command of [['send', 'user_add_org'], ['load', '--count', '2', '--no-verify']]) {
      const { status, stdout, stderr } = await runCli([...command, '--url', bare]);
      expect([status, stdout], command[0]).to.deep.equal([2, '']);
      expect(stderr).to.equal(`dingtalk-callback ${command[0]}: --url ${bare} lacks its scheme: did you mean --url ${server.url} ?\nRun "dingtalk-callback ${command[0]} --help" for usage.\n`);
    }
    expect((await server.store.list()).records).to.have.length(before);
  });

  it('load: one event is "1 distinct event"; with nothing answering, no latency or rate', async function () {
    const one = await runCli(['load', '--count', '1', '--no-verify', '--url', server.url]);
    expect(one.status, one.stderr).to.equal(0);
    expect(one.stdout).to.match(/^sent 1: ok 1, failed 0; 1 distinct event acknowledged\nlatency p50 [\d.]+ ms, p99 [\d.]+ ms \(DingTalk waits 2\.5 s for an HTTP push, 1\.5 s for a legacy callback\); \d+ pushes\/s over [\d.]+ s\n0 redeliveries of 1 distinct event\n$/);
    const url = `http://127.0.0.1:${await freePort()}/dingtalk`;
    const none = await runCli(['load', '--count', '4', '--no-verify', '--url', url]);
    expect(none.status).to.equal(1);
    expect(none.stdout).to.match(/^sent 4: ok 0, failed 4; 0 distinct events acknowledged\nno push was answered, so there is no latency or rate to report\n {2}4 x could not reach .*: ECONNREFUSED\n1 redelivery of 3 distinct events\n$/);
    expect(none.stdout).not.to.match(/p50|pushes\/s/);
  });

  it('exits 1 when nothing answers, naming the URL it tried and the flag that points elsewhere', async function () {
    const url = `http://127.0.0.1:${await freePort()}/dingtalk`;
    const noStore = `http://127.0.0.1:${await freePort()}`;
    for (const args of [['send', 'user_add_org'], ['send', 'user_add_org', '--count', '3'], ['load', '--count', '3', '--no-verify'], ['load', '--count', '3', '--endpoint', noStore]]) {
      const { status, stdout, stderr } = await runCli([...args, '--url', url]);
      expect(status, args.join(' ')).to.equal(1);
      expect(stdout).to.include(`could not reach ${url}: ECONNREFUSED`);
      expect(stderr).to.include(`nothing answered at ${url}: start the callback (npm start), or point --url at where it runs`);
      // With nothing acknowledged there is nothing to read back: no "store: 0 of 0" line.
      expect(stdout).not.to.include('store:');
    }
  });

  it('draws a progress bar on a terminal while sending many, and none when standard error is redirected', async function () {
    for (const args of [['send', 'org_dept_modify', '--count', '5'], ['load', '--count', '5', '--no-verify']]) {
      const onTerminal = await runCli([...args, '--url', server.url], { tty: true });
      expect(onTerminal.status, onTerminal.stderr).to.equal(0);
      expect(onTerminal.stderr).to.match(/\rsending +\[#{30}\] 5\/5 {2}failed 0\n/);
      const redirected = await runCli([...args, '--url', server.url]);
      expect(redirected.stderr).not.to.include('sending');
    }
  });

  const usage: Array<[string[], RegExp]> = [
    [['send'], /exactly one event type/],
    [['send', 'user_add_org', '--count', '0'], /--count must be a whole number/],
    [['send', 'user_add_org', '--bogus'], /^dingtalk-callback send: unknown option --bogus; send takes --url, --owner-key, --count, --concurrency, --duplicate, --records, --sync, --rows, --undelivered, --help\n/],
    [['send', 'missing.json'], /missing.json is not a readable JSON file/],
    [['send', 'user_add_org', '--url', 'not a url'], /--url must be an http:\/\/ or https:\/\/ URL, not not a url\n/],
    [['send', 'user_add_org', '--url', 'ftp://example.com/dingtalk'], /--url must be an http:\/\/ or https:\/\/ URL, not ftp:\/\/example.com\/dingtalk\n/],
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

  it('explains itself with --help, and prints its version', async function () {
    for (const args of [['--help'], ['send', '--help'], ['keygen', '--help'], ['load', '--help'], ['events', '--help']]) {
      const { status, stdout } = await runCli(args);
      expect(status).to.equal(0);
      expect(stdout).to.match(/^Usage: dingtalk-callback/);
    }
    expect((await runCli(['--help'])).stdout).to.match(/^ {2}-V, --version +print the version$/m);
    // The actions it names are the ones callback-url takes.
    expect((await runCli(['--help'])).stdout).to.match(/^ {2}callback-url +get, register, update or delete /m);
    for (const flag of ['--version', '-V']) expect(await runCli([flag])).to.deep.equal({ status: 0, stdout: `dingtalk-callback ${version()}\n`, stderr: '' });
  });

  for (const command of [send, load]) {
    it(`lists every option of ${command.name} --help together, before any paragraph of prose`, async function () {
      const lines = (await runCli([command.name, '--help'])).stdout.split('\n');
      const options = lines.indexOf('Options:');
      // Prose: a line at the margin after the options that is no heading of another list ("Examples:").
      const prose = lines.findIndex((line, i) => i > options && /^\S/.test(line) && !line.endsWith(':'));
      expect(options).to.be.above(0);
      expect(prose, 'a paragraph after the options').to.be.above(options);
      const optionLines = lines.slice(options, prose).join('\n');
      for (const flag of [...Object.keys(command.options), 'help']) expect(optionLines, `--${flag}`).to.match(new RegExp(`^ .*--${flag}\\b`, 'm'));
      expect(lines.slice(prose).filter((line) => /^ +--?\w/.test(line))).to.deep.equal([]);
    });
  }
});

describe('dingtalk-callback send, answered by a slow server', function () {
  it("warns when an answer comes later than DingTalk waits for that kind of push (1.2 s for a URL check)", async function () {
    const callback = await startCallbackServer(loadSettings(DEV_CREDENTIALS));
    // Holds each request 1.3 s, then passes it on: over a URL check's 1.2 s, within an HTTP push's 2.5 s.
    const slow = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => setTimeout(async () => {
        const answer = await fetch(`${callback.url}${request.url!.replace(/^\/dingtalk/, '')}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) });
        response.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
      }, 1300));
    });
    const url = `${await listenOnLoopback(slow)}/dingtalk`;
    try {
      const check = await runCli(['send', 'check_url', '--url', url]);
      expect(check.status, check.stderr).to.equal(0);
      expect(check.stderr).to.match(/^warning: \d+ ms is over DingTalk's 1\.2 s for a URL check: DingTalk would count it failed and push it again$/m);
      // A data push is held to 2.5 s: the same 1.3 s is no failure for it (a warning, if any, names 1.5 s or 2.5 s, never 1.2 s).
      const push = await runCli(['send', 'user_add_org', '--url', url]);
      expect(push.status, push.stderr).to.equal(0);
      expect(push.stderr).not.to.contain('1.2 s');
    } finally {
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
      await callback.close();
    }
  });
});

describe('dingtalk-callback send, answered by a hostile server', function () {
  it('prints what the server said with its control characters escaped', async function () {
    const server = createServer((_request, response) => response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'x\u001b[2J', message: 'cleared\u009b2J' })));
    const url = await listenOnLoopback(server);
    try {
      const { status, stdout } = await runCli(['send', 'user_add_org', '--url', `${url}/dingtalk`], { env: { ...CLEAN_ENV, ...DEV_CREDENTIALS } });
      expect(status).to.equal(1);
      expect(stdout).to.contain('500 x\\u001b[2J: cleared\\u009b2J');
      expect(stdout).not.to.match(/[\u001b\u009b]/); // eslint-disable-line no-control-regex -- finding control characters is the point
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
