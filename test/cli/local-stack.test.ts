import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventRecord } from '../../core/events';
import { syncPush, syncRow } from '../../cli/sync-rows';
import { createTablestoreClient } from '../../providers/aliyun/tablestore-client';
import { TablestoreEventStore } from '../../providers/aliyun/tablestore-store';
import { ensureEventTable } from '../../deploy/aliyun/tablestore-tables';
import { pushUrl, sealPush } from '../../core/dingtalk-side';
import { loadSettings } from '../../core/settings';
import { DEV_CREDENTIALS } from '../../providers/local/dev-credentials';
import { ensureEventTable as ensureDynamoDbEventTable } from '../../providers/local/events-table';
import { localDynamoDbClient, localDynamoDbEndpoint, LOCAL_TABLE_NAME, openLocalEventStore } from '../../providers/local/local-dynamodb';
import { CLEAN_ENV, runCli } from '../../testkit/cli';
import { eventText, recordId } from '../../testkit/fixtures';
import { call } from '../../testkit/inspector';
import { pushTo, startLocalStack, type LocalStack } from '../../testkit/local-stack';
import { freePort } from '../../testkit/ports';
import { sampleRecord } from '../../testkit/store-contract';
import { startTablestoreServer } from '../../testkit/tablestore-server';

/** One send per family of docs/protocol.md, plus an event type DingTalk has not invented yet. */
const FAMILY_SAMPLES = ['user_add_org', 'org_dept_remove', 'bpms_instance_change', 'bpms_task_change', 'attendance_check_record', 'suite_ticket', 'chat_update_title', 'hrm_user_record_change'];

/** A record as `events --json` prints it: the payload as JSON. */
type Listed = Omit<EventRecord, 'payload'> & { payload: unknown };

// One `npm start` with no DINGTALK_* set, as a newcomer runs it, for every test here: each works on
// events of its own (its ids, its event types, or what it adds to a count).
describe('npm start with no DINGTALK_* set, and dingtalk-callback against it (end to end)', function () {
  this.timeout(120_000);
  let stack: LocalStack;
  let store: string[];
  let dataDir: string;
  before(async function () {
    dataDir = mkdtempSync(join(tmpdir(), 'dingtalk-cli-e2e-'));
    // Through npm itself, as a newcomer starts it; the other stacks run its script as npm would.
    stack = await startLocalStack(dataDir, {}, { npm: true });
    store = ['--endpoint', localDynamoDbEndpoint(stack.dynamodbPort)];
  });
  after(async function () {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const send = (...args: string[]) => runCli(['send', ...args, '--url', stack.pushUrl]);
  const listed = async (...args: string[]) => {
    const { status, stdout, stderr } = await runCli(['events', '--json', '--limit', '50', ...args, ...store]);
    expect(status, stderr).to.equal(0);
    return (JSON.parse(stdout) as { events: Listed[] }).events;
  };

  /** Sends one event of `eventType`, and answers the id it is stored under. */
  const sendOne = async (eventType: string, ...args: string[]) => {
    const { status, stdout, stderr } = await send(eventType, ...args);
    expect(status, stdout + stderr).to.equal(0);
    return String(/ id (\S+)/.exec(stdout)?.[1]);
  };

  it('serves the push URL with the development credentials, stores pushes verbatim but not handshakes, and the inspector lists them', async function () {
    expect(stack.pushUrl).to.equal(`http://localhost:${stack.httpPort}/dingtalk`);
    expect(stack.output()).to.include(`DINGTALK_AES_KEY=${DEV_CREDENTIALS.DINGTALK_AES_KEY}`);
    // No app to pull for: recover's schedule is off, not a ConfigError every 10 minutes.
    expect(stack.output()).to.include('Recover: off (set DINGTALK_APP_KEY and DINGTALK_APP_SECRET');
    expect(stack.output()).to.include('Scheduling [recover] cron: disabled');
    // The Stream relay runs in this process or not at all: the scheduled stream function never does.
    expect(stack.output()).to.include('Scheduling [stream] cron: disabled');
    expect(stack.output()).to.include('Stream: off (set DINGTALK_APP_KEY and DINGTALK_APP_SECRET');

    const attendance = JSON.stringify({
      EventType: 'attendance_check_record',
      DataList: Array.from({ length: 300 }, (_, i) => ({ userId: `user${i}`, address: `杭州市余杭区文一西路${i}号`, checkTime: 1_700_000_000_000 + i, locationMethod: 'MAP' })),
    });
    const stored = [eventText('user_add_org'), eventText('bpms_instance_change'), attendance, eventText('unknown_future_event'), eventText('suite_ticket')];
    const ids = stored.map((message) => recordId(message, DEV_CREDENTIALS.DINGTALK_OWNER_KEY));
    const eventStore = openLocalEventStore(localDynamoDbEndpoint(stack.dynamodbPort));
    const everyId = async () => new Set((await eventStore.list({ limit: 1000 })).records.map((record) => record.id));
    const before = await everyId();
    for (const message of stored) expect(await pushTo(stack, message)).to.deep.equal({ status: 200, reply: 'success' });
    expect(await pushTo(stack, eventText('check_url'))).to.deep.equal({ status: 200, reply: 'success' });
    expect(await pushTo(stack, eventText('check_create_suite_url', { Random: 'LPIdSnlF' }))).to.deep.equal({ status: 200, reply: 'LPIdSnlF' });
    const wrongOwner = sealPush(loadSettings(DEV_CREDENTIALS), eventText('user_add_org'), 'dingsomeoneelse');
    expect((await fetch(pushUrl(stack.pushUrl, wrongOwner), { method: 'POST', body: wrongOwner.body })).status).to.equal(400);

    for (const [n, message] of stored.entries()) expect((await eventStore.get(ids[n]!))?.payload).to.equal(message);
    expect([...(await everyId())].filter((id) => !before.has(id)).sort(), 'everything but the handshakes').to.deep.equal([...ids].sort());

    // The inspector, on 127.0.0.1 only, lists the same events over this store (docs/inspector.md), newest first.
    expect(stack.inspectorUrl).to.equal(`http://127.0.0.1:${stack.inspectorPort}/`);
    const listed = (await call(`${stack.inspectorUrl}api/events?limit=${stored.length}`)).json() as { events: Array<{ id: string }> };
    expect(listed.events.map((event) => event.id).sort()).to.deep.equal([...ids].sort());
    expect((await call(`${stack.inspectorUrl}api/status`)).json()).to.deep.include({ forwarding: [] });
  });

  it('sends every family, and events lists each newest first, with check_url (a handshake) answered but not stored', async function () {
    const ids: string[] = [];
    for (const eventType of FAMILY_SAMPLES) ids.push(await sendOne(eventType, '--records', '300'));
    expect((await send('check_url')).status).to.equal(0);
    // The newest ones: other tests may have stored events before these.
    const records = await listed('--limit', String(FAMILY_SAMPLES.length));
    expect(records.map((record) => record.id)).to.deep.equal([...ids].reverse());
    expect(records.map((record) => record.eventType)).to.deep.equal([...FAMILY_SAMPLES].reverse());
    const attendance = records.find((record) => record.eventType === 'attendance_check_record');
    expect((attendance?.payload as { DataList: unknown[] }).DataList).to.have.length(300);
  });

  it('filters by type and by process instance, and shows one event with its payload', async function () {
    const sent = await sendOne('bpms_instance_change');
    const [approval] = await listed('--type', 'bpms_instance_change');
    expect(approval?.id).to.equal(sent);
    expect(approval?.processInstanceId).to.be.a('string');
    const table = await runCli(['events', '--type', 'bpms_instance_change', ...store]);
    expect(table.stdout).to.match(/^RECEIVED \(UTC\)\s+EVENT TYPE\s+ID/);
    expect(table.stdout).to.include(String(approval?.id));
    const byInstance = await listed('--process-instance', String(approval?.processInstanceId));
    expect(byInstance.map((record) => record.id)).to.deep.equal([approval?.id]);
    const shown = await runCli(['events', 'get', String(approval?.id), ...store]);
    expect(shown.status).to.equal(0);
    expect(shown.stdout).to.match(/^id\s+\S+/);
    expect(shown.stdout).to.include('payload:\n{\n  "EventType": "bpms_instance_change"');
    expect(shown.stdout).to.match(/"title": ".+提交的请假申请"/);
    const missing = await runCli(['events', 'get', 'no-such-event', ...store]);
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.include('no event with id no-such-event');
  });

  it('stores a 50-row SyncHTTP push as 50 records and its redelivery as none new; events --type lists rows by syncAction', async function () {
    const before = await listed('--type', 'org_dept_create', '--limit', '1000');
    const { status, stdout } = await send('--sync', 'org_dept_create', '--rows', '50', '--count', '2', '--duplicate');
    expect(status, stdout).to.equal(0);
    expect(stdout).to.match(/^sent 2: ok 2, failed 0; 50 distinct events acknowledged$/m);
    const after = await listed('--type', 'org_dept_create', '--limit', '1000');
    expect(after).to.have.length(before.length + 50);
    expect(after[0]).to.include({ source: 'sync', eventType: 'org_dept_create' });
    expect((after[0]?.payload as { biz_type: number }).biz_type).to.equal(14);
    const auth = await sendOne('--sync', 'org_suite_auth');
    expect((await listed('--type', 'org_suite_auth')).map((record) => record.id)).to.include(auth);
  });

  it('keeps the suite ticket of a SyncHTTP push for `suite`, and logs neither it nor a permanent code', async function () {
    const row = syncRow('org_suite_auth', { corpId: 'dingnpmstartcorp1' });
    const permanentCode = (JSON.parse(String(row.biz_data)) as { permanent_code: string }).permanent_code;
    const file = join(dataDir, 'sync-push.json');
    writeFileSync(file, syncPush([row, syncRow('suite_ticket', { ticket: 'npm-start-ticket', modified: Date.now() + 60_000 })]));
    expect((await send(file)).status).to.equal(0);
    const { stdout } = await runCli(['suite', '--json', '--show-ticket', ...store]);
    const kept = JSON.parse(stdout) as { suites: Array<{ suiteKey: string; ticket: string }>; organisations: Array<{ corpId: string }> };
    expect(kept.suites.find((suite) => suite.suiteKey === DEV_CREDENTIALS.DINGTALK_OWNER_KEY)?.ticket).to.equal('npm-start-ticket');
    expect(kept.organisations.map((each) => each.corpId)).to.include('dingnpmstartcorp1');
    expect(stack.output()).to.not.include(permanentCode);
    expect(stack.output()).to.not.include('npm-start-ticket');
  });

  it('stores a duplicate send once', async function () {
    const before = await listed('--type', 'label_conf_modify');
    const { status, stdout } = await send('label_conf_modify', '--count', '12', '--concurrency', '6', '--duplicate');
    expect(status, stdout).to.equal(0);
    expect(stdout).to.match(/^sent 12: ok 12, failed 0; 1 distinct event acknowledged$/m);
    expect(await listed('--type', 'label_conf_modify')).to.have.length(before.length + 1);
  });

  it('exits non-zero when the token is wrong, and nothing is stored', async function () {
    const before = (await listed()).length;
    const { status, stdout } = await runCli(['send', 'user_modify_org', '--url', stack.pushUrl], { env: { ...CLEAN_ENV, ...DEV_CREDENTIALS, DINGTALK_TOKEN: 'wrong-token' } });
    expect(status).to.equal(1);
    expect(stdout).to.match(/^FAILED user_modify_org: 401 bad_signature/);
    expect(await listed()).to.have.length(before);
  });

  it('says, when the URL is not the callback\'s, what the server said and which path the callback has', async function () {
    const { status, stdout } = await runCli(['send', 'user_add_org', '--url', new URL('/callback', stack.pushUrl).href]);
    expect(status).to.equal(1);
    expect(stdout).to.match(/^FAILED user_add_org: 404 Serverless-offline: route not found\. \(no callback at this URL: the function serves the path \/dingtalk\)/);
  });

  it('load: every acknowledged event stored once and intact, a quarter redelivered, with progress on a terminal', async function () {
    const { status, stdout, stderr } = await runCli(['load', '--count', '120', '--concurrency', '12', '--url', stack.pushUrl, ...store], { tty: true });
    expect(status, stdout + stderr).to.equal(0);
    expect(stderr).to.match(/\rsending +\[#{30}\] 120\/120 {2}failed 0\n/);
    // 90 distinct pushes over every event type in turn: four of them SyncHTTP pushes of 3 rows, each row a record.
    expect(stderr).to.match(/\rverifying \[#{30}\] 98\/98 {2}failed 0\n/);
    expect(stdout).to.match(/^sent 120: ok 120, failed 0; 98 distinct events acknowledged$/m);
    expect(stdout).to.include('30 redeliveries of 90 distinct events');
    expect(stdout).to.include('store: 98 of 98 acknowledged events stored intact, 0 missing, 0 altered');
  });

  it('reads the same table as DynamoDB with --aws, and says so when the store is down', async function () {
    const env = { ...CLEAN_ENV, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };
    const viaAws = await runCli(['events', '--json', '--aws', '--table', LOCAL_TABLE_NAME, '--region', 'us-east-1', ...store], { env });
    expect(viaAws.status, viaAws.stderr).to.equal(0);
    expect(JSON.parse(viaAws.stdout).events).to.deep.equal(await listed('--limit', '20'));
    // A table named otherwise than serverless.aws.yml names it: events needs no inbox beside it.
    await ensureDynamoDbEventTable(localDynamoDbClient(localDynamoDbEndpoint(stack.dynamodbPort)), 'audit.events_2026');
    const other = await runCli(['events', '--json', '--aws', '--table', 'audit.events_2026', '--region', 'us-east-1', ...store], { env });
    expect(other.status, other.stderr).to.equal(0);
    expect(JSON.parse(other.stdout)).to.deep.equal({ events: [], cursor: null });
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const down = await runCli(['events', '--endpoint', endpoint]);
    expect(down.status).to.equal(1);
    expect(down.stderr).to.match(/^dingtalk-callback events: cannot read the store/);
    expect(down.stderr).to.include(`nothing answered at ${endpoint}: start the local stack (npm start), or point --endpoint at its store`);
  });
});

describe('dingtalk-callback events --aliyun', function () {
  it('reads a Tablestore table with credentials from the environment', async function () {
    const server = await startTablestoreServer();
    try {
      const client = createTablestoreClient(server.clientOptions);
      await ensureEventTable(client, 'events');
      // A payload with an integer beyond 2^53 and a byte-order mark, stored verbatim.
      const exact = '\uFEFF{"EventType":"user_add_org","bizId":12345678901234567890123,"n":2}';
      const records = [sampleRecord(1), sampleRecord(2, { eventType: 'user_add_org', payload: exact }), sampleRecord(3, { eventType: 'user_add_org' })];
      for (const record of records) await new TablestoreEventStore({ tableName: 'events', client }).put(record);
      const flags = ['--aliyun', '--endpoint', server.endpoint, '--instance', server.instance, '--table', 'events'];
      const env = { ...CLEAN_ENV, ALIBABA_CLOUD_ACCESS_KEY_ID: server.clientOptions.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: server.clientOptions.secretAccessKey };
      const { status, stdout, stderr } = await runCli(['events', '--json', ...flags], { env });
      expect(status, stderr).to.equal(0);
      const listing = JSON.parse(stdout) as { events: Listed[]; cursor: string | null };
      expect(listing.cursor).to.equal(null);
      expect(listing.events).to.deep.equal([...records].reverse().map((record) => ({ ...record, payload: JSON.parse(record.payload.replace(/^\uFEFF/, '')) })));
      expect(stdout, 'the integer as stored, not rounded').to.include('"bizId": 12345678901234567890123');

      // Pages: the cursor goes to standard error under a table, into "cursor" with --json.
      const first = await runCli(['events', '--limit', '2', ...flags], { env });
      expect(first.stdout.trim().split('\n').slice(1).map((row) => row.split(/\s{2,}/)[2])).to.deep.equal([records[2]!.id, records[1]!.id]);
      const cursor = /--cursor (\S+)/.exec(first.stderr)?.[1];
      expect(cursor, first.stderr).to.be.a('string');
      const second = JSON.parse((await runCli(['events', '--json', '--limit', '2', '--cursor', String(cursor), ...flags], { env })).stdout) as { events: Listed[]; cursor: string | null };
      expect(second.events.map((record) => record.id)).to.deep.equal([records[0]!.id]);
      expect(second.cursor).to.equal(null);
      const since = await runCli(['events', '--json', '--since', String(Date.parse(records[1]!.receivedAt)), '--until', records[2]!.receivedAt, ...flags], { env });
      expect((JSON.parse(since.stdout) as { events: Listed[] }).events.map((record) => record.id)).to.deep.equal([records[1]!.id]);
      const raw = await runCli(['events', 'get', records[1]!.id, '--raw', ...flags], { env });
      expect(raw.stdout).to.equal(exact);
      const badCursor = await runCli(['events', '--cursor', 'nonsense', ...flags], { env });
      expect([badCursor.status, badCursor.stderr]).to.deep.equal([2, 'dingtalk-callback events: the cursor is not one a listing gave\nRun "dingtalk-callback events --help" for usage.\n']);
      const unsigned = await runCli(['events', ...flags]);
      expect(unsigned.status).to.equal(2);
      expect(unsigned.stderr).to.include('ALIBABA_CLOUD_ACCESS_KEY_ID');
    } finally {
      await server.close();
    }
  });
});
