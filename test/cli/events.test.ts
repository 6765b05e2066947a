import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../../core/settings';
import { DEV_CREDENTIALS } from '../../providers/local/dev-credentials';
import { ensureEventTable } from '../../providers/local/events-table';
import { LOCAL_TABLE_NAME, openLocalEventStore } from '../../providers/local/local-dynamodb';
import { startCallbackServer } from '../../testkit/callback-server';
import { CLEAN_ENV, runBin, runCli } from '../../testkit/cli';
import { startTestDynamoDb, type TestDynamoDb } from '../../testkit/dynamodb';
import { sampleRecord } from '../../testkit/store-contract';
import { startWebhookReceiver, TEST_WEBHOOK_SECRET } from '../../testkit/webhook-receiver';

/** Records with ids as the core makes them (owner key, sha256 of the message): a row is ~190 characters wide. */
const RECORDS = [1, 2, 3].map((n) => sampleRecord(n, { id: `ding6ccabc44d2c8d38b:sha256:${createHash('sha256').update(String(n)).digest('hex')}`, processInstanceId: `a8b1c2d3-0000-4000-8000-00000000000${n}` }));

describe('dingtalk-callback events, as a newcomer meets it', function () {
  let dynamo: TestDynamoDb;
  let store: string[];
  before(async function () {
    dynamo = await startTestDynamoDb();
    await ensureEventTable(dynamo.client, LOCAL_TABLE_NAME);
    for (const record of RECORDS) await openLocalEventStore(dynamo.endpoint).put(record);
    store = ['--endpoint', dynamo.endpoint];
  });
  after(async function () {
    dynamo.client.destroy();
    await dynamo.server.close();
  });

  it('fits the table to a terminal, says what it left out, and prints every column whole with --wide or into a pipe', async function () {
    const piped = await runCli(['events', ...store]);
    expect(piped.stdout.split('\n')[0]).to.match(/^RECEIVED \(UTC\)\s+EVENT TYPE\s+ID\s+CORP ID\s+PROCESS INSTANCE$/);
    for (const record of RECORDS) expect(piped.stdout).to.include(record.id);
    expect(Math.max(...piped.stdout.split('\n').map((line) => line.length))).to.be.above(180);
    expect(piped.stderr).to.equal('');

    for (const columns of [80, 120, 160]) {
      const { status, stdout, stderr } = await runCli(['events', ...store], { columns });
      expect(status, stderr).to.equal(0);
      const lines = stdout.trimEnd().split('\n');
      expect(lines, `${columns} columns`).to.have.length(RECORDS.length + 1);
      for (const line of lines) expect(line.length, line).to.be.at.most(columns);
      expect(lines[0]).to.match(/^RECEIVED \(UTC\)\s+EVENT TYPE\s+ID/);
      // Each row still tells its event apart: the start and the end of its id.
      for (const record of RECORDS) expect(stdout).to.match(new RegExp(`${record.id.slice(0, 8)}\\S*…\\S*${record.id.slice(-6)}`));
      expect(stderr).to.match(new RegExp(`^CORP ID left out, .*ID cut to fit ${columns} columns: --wide prints every column whole\\n$`));
      // An ID as the table shows it is one events get takes.
      const shown = lines[1]!.split(/\s{2,}/)[2]!;
      const got = await runCli(['events', 'get', shown, '--raw', ...store]);
      expect([got.status, got.stdout], shown).to.deep.equal([0, RECORDS[2]!.payload]);
    }
    expect((await runCli(['events', ...store], { columns: 160 })).stdout.split('\n')[0]).to.include('PROCESS INSTANCE');
    expect((await runCli(['events', ...store], { columns: 80 })).stdout.split('\n')[0]).not.to.include('PROCESS INSTANCE');

    const wide = await runCli(['events', '--wide', ...store], { columns: 80 });
    expect(wide.stdout).to.equal(piped.stdout);
    expect(wide.stderr).to.equal('');
    const roomy = await runCli(['events', ...store], { columns: 250 });
    expect([roomy.stdout, roomy.stderr]).to.deep.equal([piped.stdout, '']);
    const unknown = await runCli(['events', 'get', `${RECORDS[0]!.id.slice(0, 30)}…0000`, ...store]);
    expect([unknown.status, unknown.stderr]).to.deep.equal([1, `no event with id ${RECORDS[0]!.id.slice(0, 30)}…0000 among the 1000 newest (ids are the ID column of "events")\n`]);
    const ambiguous = await runCli(['events', 'get', 'ding6ccabc44d2c8d38b:sha256:…', ...store]);
    expect(ambiguous.status).to.equal(2);
    expect(ambiguous.stderr).to.include('3 events have an id that starts "ding6ccabc44d2c8d38b:sha256:" and ends "": run events --wide for the whole ids');
  });

  it('ends quietly when the reader of its output has gone (events | head -1)', async function () {
    const { status, stdout, stderr } = await runBin(['events', ...store], { closedStdout: true });
    expect(stdout).to.equal('');
    expect(stderr, 'no EPIPE stack').to.equal('');
    expect(status).to.equal(0);
  });

  it('says what --limit allows for a negative or missing value, not node\'s parser text', async function () {
    for (const [args, message] of [
      [['--limit', '-1'], 'dingtalk-callback events: --limit must be a whole number from 1 to 1000\n'],
      [['--limit'], 'dingtalk-callback events: --limit needs a value\n'],
      [['--limit', '--json'], 'dingtalk-callback events: --limit needs a value\n'],
    ] as const) {
      const { status, stderr } = await runCli(['events', ...args, ...store]);
      expect([status, stderr]).to.deep.equal([2, `${message}Run "dingtalk-callback events --help" for usage.\n`]);
    }
  });

  it('says a --since in the future matches nothing yet (events), or refuses it (forward)', async function () {
    const listing = await runCli(['events', '--since', '2099-01-01T00:00:00Z', ...store]);
    expect(listing.status).to.equal(0);
    expect(listing.stdout).to.equal('no events match\n');
    expect(listing.stderr).to.match(/^--since 2099-01-01T00:00:00\.000Z is in the future \(it is now \d{4}-.+Z\): no event can match yet\n$/);
    const past = await runCli(['events', '--since', '2d', ...store]);
    expect(past.stderr).to.equal('');
    const forward = await runCli(['forward', '--since', '2099-01-01T00:00:00Z', '--dry-run', ...store]);
    expect(forward.status).to.equal(2);
    expect(forward.stderr).to.match(/^dingtalk-callback forward: --since 2099-01-01T00:00:00\.000Z is in the future .*: no event to re-send\n/);
  });

  it('says what is wrong with an --endpoint that lacks its scheme', async function () {
    const port = new URL(dynamo.endpoint).port;
    for (const command of [['events'], ['forward', '--since', '1d', '--dry-run'], ['load', '--count', '1']]) {
      const { status, stderr } = await runCli([...command, '--endpoint', `localhost:${port}`]);
      expect(status, command[0]).to.equal(2);
      expect(stderr).to.include(`--endpoint localhost:${port} lacks its scheme: did you mean --endpoint http://localhost:${port} ?`);
    }
  });

  it('says an --endpoint that answers, but not as DynamoDB does, is not the store (the callback URL, say)', async function () {
    const callback = await startCallbackServer(loadSettings(DEV_CREDENTIALS));
    try {
      const origin = new URL(callback.url).origin;
      const { status, stderr } = await runCli(['events', '--endpoint', origin]);
      expect(status).to.equal(1);
      expect(stderr).to.match(/^dingtalk-callback events: cannot read the store \(DynamoDB Query failed after 1 attempt: HTTP400 \(HTTP 400\): /);
      expect(stderr).to.include(`${origin} answered, but not as DynamoDB does: --endpoint is the store's address (npm start serves it at http://localhost:8000; npm start -- --dynamodbPort P at http://localhost:P), not the callback URL\n`);
      expect((await runCli(['events', ...store])).stderr, 'the store itself').to.equal('');
    } finally {
      await callback.close();
    }
  });

  it('--aws: says when no region is given, and when no AWS credentials are found, what to set', async function () {
    const home = mkdtempSync(join(tmpdir(), 'dingtalk-no-aws-'));
    // No keys, no profile files, no instance metadata: the credential chain finds nothing.
    const env = { PATH: process.env.PATH, HOME: home, AWS_CONFIG_FILE: join(home, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'), AWS_EC2_METADATA_DISABLED: 'true' };
    const noRegion = await runCli(['events', '--aws', '--table', 'dingtalk-callback-prod-events'], { env });
    expect([noRegion.status, noRegion.stderr]).to.deep.equal([2, 'dingtalk-callback events: no AWS region: pass --region R, or set AWS_REGION\nRun "dingtalk-callback events --help" for usage.\n']);
    const noKeys = await runCli(['events', '--aws', '--table', 'dingtalk-callback-prod-events', '--region', 'cn-north-1'], { env });
    expect(noKeys.status).to.equal(1);
    expect(noKeys.stderr).to.match(/^dingtalk-callback events: cannot read the store \(DynamoDB \w+ failed after 1 attempt: CredentialsProviderError: /);
    expect(noKeys.stderr).to.include('no AWS credentials were found: set AWS_PROFILE (a profile of aws configure or aws sso login), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n');
    rmSync(home, { recursive: true, force: true });
  });

  it('suggests the command meant by a typo, without the whole help', async function () {
    const { status, stdout, stderr } = await runCli(['evnets']);
    expect(status).to.equal(2);
    expect(stdout).to.equal('');
    expect(stderr).to.equal('dingtalk-callback: unknown command "evnets" (did you mean "events"?); the commands are keygen, send, events, suite, usage, listen, load, forward, recover, callback-url\nRun "dingtalk-callback --help" for what each does.\n');
    expect((await runCli(['frobnicate'])).stderr).to.match(/^dingtalk-callback: unknown command "frobnicate"; the commands are /);
    expect((await runCli(['events', '--limt', '3'])).stderr).to.match(/^dingtalk-callback events: unknown option --limt \(did you mean --limit\?\); events takes /);
  });
});

describe('dingtalk-callback events and forward, shown what a hostile pusher can store', function () {
  let dynamo: TestDynamoDb;
  let store: string[];
  // An ESC sequence that clears the screen and homes the cursor, a one-byte CSI (U+009B), a
  // right-to-left override and a forged row: what the payload of a push may hold, and so its fields.
  const forged = '\u001b[2J\u001b[Hforged\u009b2J\u202e\nRECEIVED';
  const hostile = sampleRecord(9, { id: `dinghostile:event:x:${forged}`, eventType: `user_add_org${forged}`, corpId: forged, processInstanceId: forged, payload: JSON.stringify({ EventType: 'user_add_org', note: forged }) });
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const raw = /[\u001b\u009b\u202e]/;
  before(async function () {
    dynamo = await startTestDynamoDb();
    await ensureEventTable(dynamo.client, LOCAL_TABLE_NAME);
    await openLocalEventStore(dynamo.endpoint).put(hostile);
    store = ['--endpoint', dynamo.endpoint];
  });
  after(async function () {
    dynamo.client.destroy();
    await dynamo.server.close();
  });

  it('escapes every control character in the table, in get and in --json, which still reads back the same', async function () {
    for (const columns of [undefined, 120]) {
      const table = await runCli(['events', ...store], { columns });
      expect(table.stdout, `columns ${columns}`).not.to.match(raw);
      expect(table.stdout.trimEnd().split('\n'), 'one row, no forged one').to.have.length(2);
      expect(table.stdout).to.include('\\u001b[2J\\u001b[Hforged\\u009b2J\\u202e\\u000aRECEIVED');
    }
    const shown = await runCli(['events', 'get', hostile.id, ...store]);
    expect(shown.status, shown.stderr).to.equal(0);
    expect(shown.stdout).not.to.match(raw);
    expect(shown.stdout).to.include(`eventType          user_add_org\\u001b[2J`);
    const json = await runCli(['events', '--json', ...store]);
    expect(json.stdout).not.to.match(raw);
    expect((JSON.parse(json.stdout) as { events: Array<{ eventType: string; payload: { note: string } }> }).events.map((record) => [record.eventType, record.payload.note])).to.deep.equal([[hostile.eventType, forged]]);
    expect((await runCli(['events', 'get', hostile.id, '--raw', ...store], { columns: 120 })).stdout, 'on a terminal').not.to.match(raw);
    expect((await runCli(['events', 'get', hostile.id, '--raw', ...store])).stdout, 'into a pipe, verbatim').to.equal(hostile.payload);
    const missing = await runCli(['events', 'get', `nothing${forged}`, ...store]);
    expect(missing.stderr).not.to.match(raw);
  });

  it('escapes them in forward --dry-run, and counts a stored handshake as skipped, not delivered', async function () {
    const handshake = sampleRecord(10, { eventType: 'check_url', payload: '{"EventType":"check_url"}' });
    await openLocalEventStore(dynamo.endpoint).put(handshake);
    const dry = await runCli(['forward', '--since', '2026-11-27T00:00:00Z', '--dry-run', ...store]);
    expect(dry.stdout).not.to.match(raw);
    expect(dry.stdout).to.include('1 event would be sent; 1 handshake (check_url, suite checks) skipped: never forwarded');
    const receiver = await startWebhookReceiver(TEST_WEBHOOK_SECRET);
    try {
      const sent = await runCli(['forward', '--since', '2026-11-27T00:00:00Z', ...store], { env: { ...CLEAN_ENV, DINGTALK_FORWARD_URL: receiver.url, DINGTALK_FORWARD_SECRET: TEST_WEBHOOK_SECRET } });
      expect(sent.status, sent.stdout + sent.stderr).to.equal(0);
      expect(sent.stdout).to.include('1 of 1 event delivered; 1 handshake (check_url, suite checks) skipped: never forwarded');
      expect(receiver.deliveries.map((delivery) => delivery.body.data.id)).to.deep.equal([hostile.id]);
    } finally {
      await receiver.close();
    }
  });
});
