import { expect } from 'chai';
import type { EventRecord } from '../../core/events';
import type { EventQuery, EventReader, EventStore } from '../../core/listing';
import { countsAgainstPushQuota, QUOTA_EXEMPT_TYPES } from '../../core/quota';
import { monthBounds, monthUsage, type MonthUsage } from '../../core/usage';
import { ensureEventTable as ensureTablestoreTable } from '../../deploy/aliyun/tablestore-tables';
import { createTablestoreClient } from '../../providers/aliyun/tablestore-client';
import { TablestoreEventStore } from '../../providers/aliyun/tablestore-store';
import { ensureEventTable } from '../../providers/local/events-table';
import { LOCAL_TABLE_NAME, openLocalEventStore } from '../../providers/local/local-dynamodb';
import { CLEAN_ENV, runCli } from '../../testkit/cli';
import { startTestDynamoDb, type TestDynamoDb } from '../../testkit/dynamodb';
import { sampleRecord } from '../../testkit/store-contract';
import { startTablestoreServer, type LocalTablestore } from '../../testkit/tablestore-server';

let serial = 0;
/** A record of `eventType` from `source`, received at `receivedAt` (ISO-8601 UTC). */
function event(eventType: string, source: EventRecord['source'], receivedAt: string): EventRecord {
  serial += 1;
  return sampleRecord(serial, { id: `dingusagecorp:event:${eventType}:usage-${serial}`, eventId: `usage-${serial}`, eventType, source, receivedAt, processInstanceId: undefined, payload: JSON.stringify({ EventType: eventType, n: serial }) });
}

/**
 * Two of DingTalk's months (UTC+8): October 2026, and November 2026 from its first moment
 * (2026-10-31T16:00:00.000Z), the moment before it being October's last.
 */
const SEEDED = [
  event('bpms_instance_change', 'push', '2026-10-05T02:00:00.000Z'),
  event('user_add_org', 'push', '2026-10-06T02:00:00.000Z'),
  event('bpms_instance_change', 'recovered', '2026-10-31T15:59:59.999Z'),
  event('bpms_instance_change', 'push', '2026-10-31T16:00:00.000Z'),
  event('bpms_instance_change', 'push', '2026-11-02T01:00:00.000Z'),
  event('bpms_task_change', 'stream', '2026-11-02T03:00:00.000Z'),
  event('user_add_org', 'push', '2026-11-03T01:00:00.000Z'),
  event('org_dept_create', 'recovered', '2026-11-03T02:00:00.000Z'),
  event('user_leave_org', 'stream', '2026-11-04T01:00:00.000Z'),
  event('bpms_instance_change', 'recovered', '2026-11-05T01:00:00.000Z'),
  event('attendance_check_record', 'push', '2026-11-06T23:00:00.000Z'),
];

/** What November holds: 5 counted (approvals, a task, attendance), 3 exempt contact events. */
const NOVEMBER = {
  month: '2026-11',
  since: '2026-10-31T16:00:00.000Z',
  until: '2026-11-30T16:00:00.000Z',
  events: 8,
  counted: 5,
  exempt: 3,
  bySource: { push: 4, stream: 2, sync: 0, recovered: 2 },
  byType: { bpms_instance_change: 3, attendance_check_record: 1, bpms_task_change: 1, org_dept_create: 1, user_add_org: 1, user_leave_org: 1 },
};

describe('dingtalk-callback usage: a month of events against the push quota', function () {
  let dynamo: TestDynamoDb;
  let tablestore: LocalTablestore;
  let stores: Array<[string, EventStore, string[], typeof CLEAN_ENV]>;

  before(async function () {
    dynamo = await startTestDynamoDb();
    await ensureEventTable(dynamo.client, LOCAL_TABLE_NAME);
    tablestore = await startTablestoreServer();
    const client = createTablestoreClient(tablestore.clientOptions);
    await ensureTablestoreTable(client, 'events');
    const aliyunEnv = { ...CLEAN_ENV, ALIBABA_CLOUD_ACCESS_KEY_ID: tablestore.clientOptions.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: tablestore.clientOptions.secretAccessKey };
    stores = [
      ['DynamoDB (dynalite)', openLocalEventStore(dynamo.endpoint), ['--endpoint', dynamo.endpoint], CLEAN_ENV],
      ['Tablestore (the local server)', new TablestoreEventStore({ tableName: 'events', client }), ['--aliyun', '--endpoint', tablestore.endpoint, '--instance', tablestore.instance, '--table', 'events'], aliyunEnv],
    ];
    for (const [, store] of stores) for (const record of SEEDED) await store.put(record);
  });
  after(async function () {
    dynamo?.client.destroy();
    await dynamo?.server.close();
    await tablestore?.close();
  });

  it('keeps the exempt list in one place: DingTalk’s contact-list events and the URL checks', function () {
    for (const type of ['user_add_org', 'org_dept_remove', 'label_conf_add', 'industry_medical_full_sync', 'check_url', 'check_create_suite_url']) expect(countsAgainstPushQuota(type), type).to.equal(false);
    for (const type of ['bpms_instance_change', 'attendance_check_record', 'chat_add_member', 'suite_ticket']) expect(countsAgainstPushQuota(type), type).to.equal(true);
    expect(QUOTA_EXEMPT_TYPES.size).to.equal(24);
  });

  it('bounds a month as DingTalk’s (UTC+8) and refuses anything but YYYY-MM', function () {
    expect(monthBounds('2026-12')).to.deep.equal({ since: '2026-11-30T16:00:00.000Z', until: '2026-12-31T16:00:00.000Z' });
    for (const bad of ['2026-13', '2026-1', 'november', '0099-01', '1969-12']) expect(() => monthBounds(bad), bad).to.throw(RangeError);
    expect(monthBounds('1970-01').since).to.equal('1969-12-31T16:00:00.000Z');
  });

  for (const index of [0, 1]) {
    describe(index === 0 ? 'on DynamoDB (dynalite)' : 'on Tablestore (the local server)', function () {
      it('counts the month by source and type, reading that month only, and projects the day the quota is reached', async function () {
        const [, seeded] = stores[index]!;
        const asked: EventQuery[] = [];
        const store: EventReader = { get: (id) => seeded.get(id), list: (query = {}) => (asked.push(query), seeded.list(query)) };
        // Ten days in: 5 counted; at that rate 14 are reached 28 days in (2026-11-29, UTC+8), 16 only after the month.
        const now = new Date('2026-11-10T16:00:00.000Z');
        const november = await monthUsage(store, '2026-11', { quota: 14, now });
        expect(november).to.deep.equal({ ...NOVEMBER, quota: 14, reached: false, reachesQuotaOn: '2026-11-29', complete: false });
        expect(Object.keys(november.byType)[0]).to.equal('bpms_instance_change');
        expect(asked.map(({ since, until }) => ({ since, until }))).to.deep.equal([{ since: NOVEMBER.since, until: NOVEMBER.until }]);
        expect((await monthUsage(store, '2026-11', { quota: 16, now })).reachesQuotaOn, 'beyond the month').to.equal(null);
        // Reached: the day of the quota-th counted event, in UTC+8 (the attendance push at 07:00 on the 7th).
        expect(await monthUsage(store, '2026-11', { quota: 5, now })).to.include({ reached: true, reachesQuotaOn: '2026-11-07' });
        const october = await monthUsage(store, '2026-10', { now });
        expect(october).to.deep.include({ events: 3, counted: 2, exempt: 1, quota: 3000, bySource: { push: 2, stream: 0, sync: 0, recovered: 1 }, reached: false, reachesQuotaOn: null, complete: true });
        expect((await monthUsage(store, '2026-09', { now })).events).to.equal(0);
      });

      it('the CLI prints it as text and, with --json, as one object', async function () {
        const [, , flags, env] = stores[index]!;
        const json = await runCli(['usage', '--month', '2026-11', '--json', '--quota', '100', ...flags], { env });
        expect(json.status, json.stderr).to.equal(0);
        const usage = JSON.parse(json.stdout) as MonthUsage;
        expect(usage).to.deep.include({ ...NOVEMBER, quota: 100, complete: true, reached: false, reachesQuotaOn: null });
        const text = await runCli(['usage', '--month', '2026-11', ...flags], { env });
        expect(text.status, text.stderr).to.equal(0);
        expect(text.stdout).to.match(/^2026-11 \(UTC\+8\): 8 events stored\n {2}count against the push quota {2}5 of 3,000 \(0%\)\n {2}exempt \(contact-list events\) {2}3\n/);
        expect(text.stdout).to.match(/^ {2}recovered +2$/m);
        expect(text.stdout).to.match(/^ {2}bpms_instance_change +3$/m);
        expect(text.stdout).to.match(/^ {2}user_add_org +1 {2}exempt$/m);
        const spent = await runCli(['usage', '--month', '2026-11', '--quota', '5', ...flags], { env });
        expect(spent.stdout).to.include('\n  the quota was reached on 2026-11-07: DingTalk pushes nothing more that month\n');
      });
    });
  }

  it('lines up the counts by type when a pushed type holds a control character, shown as its escape', async function () {
    const [, store, flags, env] = stores[0]!;
    for (const type of ['bpms_instance_change', 'evil\u202etxt.exe\u001b[2J']) await store.put(event(type, 'push', '2026-07-10T02:00:00.000Z'));
    const text = await runCli(['usage', '--month', '2026-07', ...flags], { env });
    expect(text.status, text.stderr).to.equal(0);
    const rows = text.stdout.split('\n').slice(text.stdout.split('\n').indexOf('By type:') + 1, -1);
    expect(rows).to.have.length(2);
    expect(rows.join('\n')).to.include('evil\\u202etxt.exe\\u001b[2J');
    expect(new Set(rows.map((row) => row.length)), rows.join('\n')).to.have.property('size', 1);
  });

  it('refuses a malformed --month or --quota, saying what it takes', async function () {
    const month = await runCli(['usage', '--month', '2026-13']);
    expect(month.status).to.equal(2);
    expect(month.stderr).to.match(/--month must be YYYY-MM, like \d{4}-\d{2}/);
    const future = await runCli(['usage', '--month', '9999-12']);
    expect([future.status, future.stdout]).to.deep.equal([2, '']);
    expect(future.stderr).to.match(/--month 9999-12 has not begun: DingTalk's month \(UTC\+8\) is \d{4}-\d{2}/);
    const quota = await runCli(['usage', '--quota', '0']);
    expect(quota.status).to.equal(2);
    expect(quota.stderr).to.contain('--quota must be a whole number from 1 to 1000000000');
  });
});
