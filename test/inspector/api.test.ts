import { expect } from 'chai';
import { forwardSinks, loadForwardSettings } from '../../core/forward-settings';
import { allRecords } from '../../core/listing';
import { QUOTA_EXEMPT_TYPES } from '../../core/quota';
import { loadSettings } from '../../core/settings';
import { dingtalkMonth, monthBounds } from '../../core/usage';
import { DeliveryBook } from '../../inspector/deliveries';
import { startInspector, type Inspector } from '../../inspector/server';
import type { InspectorApiOptions } from '../../inspector/api';
import { DynamoDbEventStore } from '../../providers/aws/dynamodb-store';
import { DEV_CREDENTIALS } from '../../providers/local/dev-credentials';
import { startDynamoDbServer, type DynamoDbServer } from '../../providers/local/dynamodb-server';
import { ensureEventTable } from '../../providers/local/events-table';
import { localDynamoDbClient, localDynamoDbEndpoint, LOCAL_TABLE_NAME } from '../../providers/local/local-dynamodb';
import type { AwsJsonClient } from '../../providers/aws/aws-json-client';
import { startCallbackServer, type CallbackServer } from '../../testkit/callback-server';
import { GENEROUS_PUT_DEADLINE_MS } from '../../testkit/dynamodb';
import { call, openEventStream } from '../../testkit/inspector';
import { sampleRecord } from '../../testkit/store-contract';
import { startWebhookReceiver, TEST_WEBHOOK_SECRET, type WebhookReceiver } from '../../testkit/webhook-receiver';

const SETTINGS = loadSettings(DEV_CREDENTIALS);
const BIG = '12345678901234567890123';
const HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">';

/** Six records a second apart (newest last): two sources, two types, two instances; one with a big integer, Chinese and markup. */
const RECORDS = [1, 2, 3, 4, 5, 6].map((n) =>
  sampleRecord(n, {
    source: n % 2 === 0 ? 'stream' : 'push',
    eventType: n <= 3 ? 'bpms_instance_change' : 'user_add_org',
    processInstanceId: n <= 3 ? `proc-${n % 2}` : undefined,
    payload: `{"EventType":"${n <= 3 ? 'bpms_instance_change' : 'user_add_org'}","n":${n},"big":${BIG},"title":"张三的请假申请 ${HOSTILE.replace(/"/g, '\\"')}"}`,
  }),
);

describe('the inspector API over the local store (dynalite), a real callback and a real webhook receiver', function () {
  let dynamo: DynamoDbServer;
  let client: AwsJsonClient;
  let store: DynamoDbEventStore;
  let callback: CallbackServer<DynamoDbEventStore>;
  let receiver: WebhookReceiver;
  let inspectors: Inspector[] = [];
  /** The inspector the page of `npm start` is, here: it hears each put as the plugin does. */
  let onPut: (id: string) => void = () => {};

  const start = async (options: Partial<InspectorApiOptions> = {}) => {
    const inspector = await startInspector({ port: 0, store, deliveries: new DeliveryBook(), target: { url: callback.url, settings: SETTINGS, ownerKey: SETTINGS.ownerKeys[0]! }, ...options });
    inspectors.push(inspector);
    onPut = (id) => inspector.stored(id);
    return inspector;
  };
  const sinks = (url: string) => forwardSinks(loadForwardSettings({ DINGTALK_FORWARD_URL: url, DINGTALK_FORWARD_SECRET: TEST_WEBHOOK_SECRET }));
  const quick = { attempts: 2, firstDelayMs: 10, maxDelayMs: 10 };

  before(async function () {
    dynamo = await startDynamoDbServer({ port: 0, onPut: (table, item) => table === LOCAL_TABLE_NAME && onPut(String(item.id?.S)) });
    client = localDynamoDbClient(localDynamoDbEndpoint(dynamo.port));
    await ensureEventTable(client, LOCAL_TABLE_NAME);
    store = new DynamoDbEventStore({ tableName: LOCAL_TABLE_NAME, client, putDeadlineMs: GENEROUS_PUT_DEADLINE_MS });
    for (const record of RECORDS) await store.put(record);
    callback = await startCallbackServer(SETTINGS, store);
    receiver = await startWebhookReceiver();
  });
  afterEach(async function () {
    await Promise.all(inspectors.map((inspector) => inspector.close()));
    inspectors = [];
  });
  after(async function () {
    await receiver.close();
    await callback.close();
    client.destroy();
    await dynamo.close();
  });

  it('lists newest first without payloads, page by page on the store cursor, and filters by type, source, instance and time', async function () {
    const { url } = await start();
    const ids = (body: { events: Array<{ id: string }> }) => body.events.map((event) => event.id);
    const all = RECORDS.map((record) => record.id).reverse();

    const first = (await call(`${url}api/events?limit=4`)).json();
    expect(ids(first)).to.deep.equal(all.slice(0, 4));
    expect(first.events[0]).to.not.have.property('payload');
    expect(first.events[0]).to.include({ eventType: 'user_add_org', source: 'stream', receivedAt: RECORDS[5]!.receivedAt });
    const second = (await call(`${url}api/events?limit=4&cursor=${first.cursor}`)).json();
    expect(ids(second)).to.deep.equal(all.slice(4));
    expect(second).to.not.have.property('cursor');

    expect(ids((await call(`${url}api/events?type=user_add_org`)).json())).to.deep.equal(all.slice(0, 3));
    expect(ids((await call(`${url}api/events?instance=proc-1`)).json())).to.deep.equal([RECORDS[2]!.id, RECORDS[0]!.id]);
    expect(ids((await call(`${url}api/events?since=${RECORDS[1]!.receivedAt}&until=${RECORDS[4]!.receivedAt}`)).json())).to.deep.equal([RECORDS[3]!.id, RECORDS[2]!.id, RECORDS[1]!.id]);

    // No index holds the source: pages of the store are filtered, and the cursor goes on after the last read.
    const stream1 = (await call(`${url}api/events?source=stream&limit=2`)).json();
    expect(ids(stream1)).to.deep.equal([RECORDS[5]!.id, RECORDS[3]!.id]);
    const stream2 = (await call(`${url}api/events?source=stream&limit=2&cursor=${stream1.cursor}`)).json();
    expect(ids(stream2)).to.deep.equal([RECORDS[1]!.id]);
    expect(ids((await call(`${url}api/events?source=push&type=bpms_instance_change`)).json())).to.deep.equal([RECORDS[2]!.id, RECORDS[0]!.id]);
  });

  it('refuses a malformed query with 400 and a short JSON error that says what to send', async function () {
    const { url } = await start();
    for (const [query, words] of [
      ['since=yesterday', /since must be an ISO-8601 UTC time/],
      ['cursor=bm90LWEtY3Vyc29y', /cursor is not one a listing gave/],
      ['source=carrier-pigeon', /source must be one of push, recovered, stream, sync/],
      ['limit=0', /limit must be a whole number from 1 to 1000/],
      ['limit=2.5', /limit must be a whole number/],
      ['colour=red', /unknown parameter "colour"/],
    ] as const) {
      const answer = await call(`${url}api/events?${query}`);
      expect(answer.status, query).to.equal(400);
      expect(answer.headers['content-type']).to.equal('application/json; charset=utf-8');
      expect(answer.json().error).to.equal('bad_query');
      expect(answer.json().message).to.match(words);
    }
    expect((await call(`${url}api/events/%E0%A4%A`)).json()).to.deep.include({ error: 'bad_id' });
    expect((await call(`${url}api/events/no-such-id`)).status).to.equal(404);
    // Longer than any key: no such event (never a 503 that says "try again").
    expect((await call(`${url}api/events/${'a'.repeat(3000)}`)).json()).to.deep.include({ error: 'not_found' });
    expect((await call(`${url}api/nothing`)).status).to.equal(404);
    const wrongMethod = await call(`${url}api/events`, { method: 'DELETE' });
    expect([wrongMethod.status, wrongMethod.headers.allow, wrongMethod.json().error]).to.deep.equal([405, 'GET', 'method_not_allowed']);
  });

  it('shows one event: its fields, its payload verbatim and re-indented with the big integer, Chinese and markup as written', async function () {
    const { url } = await start();
    const record = RECORDS[2]!;
    const answer = await call(`${url}api/events/${encodeURIComponent(record.id)}`);
    expect(answer.status).to.equal(200);
    const body = answer.json();
    const { payload, ...fields } = record;
    expect(body.record).to.deep.equal(fields);
    expect(body.payload).to.equal(payload);
    expect(body.pretty).to.equal(`{\n  "EventType": "bpms_instance_change",\n  "n": 3,\n  "big": ${BIG},\n  "title": "张三的请假申请 ${HOSTILE.replace(/"/g, '\\"')}"\n}`);
    // The JSON text itself carries the number inside strings only: no reader of it can round it.
    expect(answer.text).to.include(`\\"big\\":${BIG}`);
    expect(body.delivery).to.deep.include({ state: 'off' });
  });

  it('answers only its own page: another Host, another Origin, a cross-site fetch or a POST that is not JSON get 403 or 415, before anything is read', async function () {
    const { url } = await start();
    const port = new URL(url).port;
    const events = `${url}api/events`;
    const refused = [
      await call(events, { headers: { host: `attacker.example:${port}` } }),
      await call(url, { headers: { host: `rebound.example:${port}` } }),
      await call(events, { headers: { origin: 'https://attacker.example' } }),
      await call(events, { headers: { origin: `http://localhost:${Number(port) + 1}` } }),
      await call(events, { headers: { 'sec-fetch-site': 'cross-site' } }),
      await call(events, { headers: { 'sec-fetch-site': 'same-site' } }),
      await call(`${url}api/samples`, { method: 'POST', headers: { 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' }, body: '{"type":"user_add_org"}' }),
    ];
    for (const answer of refused) {
      expect(answer.status).to.equal(403);
      expect(answer.json().error).to.be.oneOf(['wrong_host', 'cross_origin']);
    }
    const form = await call(`${url}api/samples`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'type=user_add_org' });
    expect([form.status, form.json().error]).to.deep.equal([415, 'json_only']);

    // Its own page, a navigation typed in the address bar, and a local script without browser headers are served.
    expect((await call(events, { headers: { origin: url.slice(0, -1), 'sec-fetch-site': 'same-origin' } })).status).to.equal(200);
    expect((await call(events, { headers: { host: `localhost:${port}`, origin: `http://localhost:${port}` } })).status).to.equal(200);
    expect((await call(events, { headers: { 'sec-fetch-site': 'none' } })).status).to.equal(200);
    expect((await call(events)).status).to.equal(200);
  });

  it('serves the page with a policy that runs only its own script, no inline script or HTML from strings, and is never framed', async function () {
    const { url } = await start();
    const page = await call(url);
    expect(page.status).to.equal(200);
    expect(page.headers['content-type']).to.equal('text/html; charset=utf-8');
    const policy = String(page.headers['content-security-policy']);
    for (const part of ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"]) expect(policy).to.include(part);
    expect(page.headers['x-content-type-options']).to.equal('nosniff');
    expect(page.text).to.include('<script src="/app.js" defer></script>');
    const script = await call(`${url}app.js`);
    expect(script.headers['content-type']).to.equal('text/javascript; charset=utf-8');
    expect(script.text).to.not.match(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    expect((await call(`${url}api/events`)).headers['content-security-policy']).to.equal(policy);
  });

  it('sends a sample push through the callback as DingTalk would; open pages hear it stored; no secret reaches the API', async function () {
    const { url } = await start({ forward: { sinks: sinks(receiver.url), types: () => true } });
    const stream = await openEventStream(url);
    const answer = await call(`${url}api/samples`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url.slice(0, -1) }, body: '{"type":"bpms_task_change"}' });
    expect(answer.status, answer.text).to.equal(200);
    const { id } = answer.json();
    expect(id).to.match(/^dingdevcorp0000000000:sha256:[0-9a-f]{64}$/);
    expect(await stream.take(1)).to.deep.equal([{ event: 'stored', id }]);
    await stream.close();
    const stored = (await call(`${url}api/events/${encodeURIComponent(id)}`)).json();
    expect(stored.record).to.include({ eventType: 'bpms_task_change', source: 'push' });
    expect(stored.payload).to.match(/提交的请假申请/);
    const status = await call(`${url}api/status`);
    expect(status.json()).to.deep.include({ forwarding: ['webhook'] });
    expect(status.json().sampleTypes).to.include('bpms_task_change').and.not.include('check_url');
    for (const text of [answer.text, status.text, JSON.stringify(stored)]) {
      for (const secret of [DEV_CREDENTIALS.DINGTALK_TOKEN, DEV_CREDENTIALS.DINGTALK_AES_KEY, TEST_WEBHOOK_SECRET, TEST_WEBHOOK_SECRET.slice(6), receiver.url]) expect(text).to.not.include(secret);
    }

    const unknown = await call(`${url}api/samples`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"check_url"}' });
    expect([unknown.status, unknown.json().error]).to.deep.equal([400, 'bad_type']);
    const notJson = await call(`${url}api/samples`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":' });
    expect([notJson.status, notJson.json().error]).to.deep.equal([400, 'bad_json']);
    const huge = await call(`${url}api/samples`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'x'.repeat(10_000) }) });
    expect([huge.status, huge.json().error]).to.deep.equal([413, 'too_large']);
  });

  it("counts this month's events against the push quota as usage does: a push counts, a contact event is free", async function () {
    const { url } = await start();
    const usage = async () => {
      const answer = await call(`${url}api/usage`);
      expect(answer.status).to.equal(200);
      return answer.json();
    };
    const before = await usage();
    const month = dingtalkMonth(new Date());
    // Counted here from the store's own listing of the month: what the page must agree with.
    const records = [];
    for await (const record of allRecords(store, monthBounds(month))) records.push(record);
    const exempt = records.filter((record) => QUOTA_EXEMPT_TYPES.has(record.eventType)).length;
    expect(before).to.deep.include({ month, quota: 3000, events: records.length, exempt, counted: records.length - exempt, reached: false });
    for (const type of ['bpms_task_change', 'user_add_org']) {
      const sent = await call(`${url}api/samples`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type }) });
      expect(sent.status, sent.text).to.equal(200);
    }
    expect(await usage()).to.deep.include({ month, events: records.length + 2, counted: before.counted + 1, exempt: before.exempt + 1 });
  });

  it('re-delivers one event, signed, to the webhook as forward does, and shows the outcome: delivered, or dead-lettered with the attempts and the last error', async function () {
    const record = RECORDS[2]!;
    const path = `api/events/${encodeURIComponent(record.id)}/redeliver`;
    const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' };
    const off = await start();
    const refused = await call(`${off.url}${path}`, post);
    expect([refused.status, refused.json().error]).to.deep.equal([409, 'forwarding_off']);

    const { url } = await start({ forward: { sinks: sinks(receiver.url), types: () => true, retry: quick } });
    expect((await call(`${url}api/events/${encodeURIComponent(record.id)}`)).json().delivery).to.deep.include({ state: 'unknown' });
    const before = receiver.deliveries.length;
    const stream = await openEventStream(url);
    const answer = await call(`${url}${path}`, post);
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.json().delivery).to.deep.include({ state: 'delivered', by: 'redeliver', attempts: 1 });
    expect(await stream.take(1)).to.deep.equal([{ event: 'delivery', id: record.id }]);
    await stream.close();
    const delivered = receiver.deliveries.slice(before);
    expect(delivered).to.have.length(1);
    expect(delivered[0]!.body.data.id).to.equal(record.id);
    // The payload arrives as JSON with the big integer as written.
    expect(delivered[0]!.text).to.match(new RegExp(`"big": ?${BIG}[,}]`));
    expect((await call(`${url}api/events/${encodeURIComponent(record.id)}`)).json().delivery).to.deep.include({ state: 'delivered' });

    const down = await startWebhookReceiver(TEST_WEBHOOK_SECRET, () => 503);
    try {
      const failing = await start({ forward: { sinks: sinks(down.url), types: () => true, retry: quick } });
      const failed = (await call(`${failing.url}${path}`, post)).json();
      expect(failed.delivery).to.deep.include({ state: 'dead_lettered', by: 'redeliver', attempts: 2, sink: 'webhook' });
      expect(failed.delivery.lastError).to.match(/503/);
      expect(down.deliveries).to.have.length(2);
    } finally {
      await down.close();
    }

    const filtered = await start({ forward: { sinks: sinks(receiver.url), types: (type) => type !== 'bpms_instance_change', retry: quick } });
    const never = await call(`${filtered.url}${path}`, post);
    expect([never.status, never.json().error]).to.deep.equal([409, 'not_forwarded']);
  });
});
