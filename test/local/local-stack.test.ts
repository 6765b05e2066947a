import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseMessage, toRecord } from '../../core/events';
import { rowRecord } from '../../core/sync-push';
import { webhookIdOf } from '../../core/webhook';
import { syncPush, syncRow } from '../../cli/sync-rows';
import { DynamoDbEventStore } from '../../providers/aws/dynamodb-store';
import { DEV_CREDENTIALS, DEV_FORWARD_SECRET } from '../../providers/local/dev-credentials';
import { startDynamoDbServer } from '../../providers/local/dynamodb-server';
import { ensureEventTable } from '../../providers/local/events-table';
import { LOCAL_TABLE_NAME, localDynamoDbClient, localDynamoDbEndpoint, openLocalEventStore } from '../../providers/local/local-dynamodb';
import { createLocalStream } from '../../providers/local/local-stream';
import { approvalItem, FakeDingTalk } from '../../testkit/fake-dingtalk';
import { FakeStreamGateway } from '../../testkit/fake-stream-gateway';
import { eventText, recordId, SAMPLE_ENV } from '../../testkit/fixtures';
import { call } from '../../testkit/inspector';
import { pushTo, startLocalStack, type LocalStack } from '../../testkit/local-stack';
import { startWebhookReceiver, type Delivery, type WebhookReceiver } from '../../testkit/webhook-receiver';

const OWNER = SAMPLE_ENV.DINGTALK_OWNER_KEY;

/** The approval an earlier run stored, for the development ownerKey, and had not forwarded when it was killed. */
const EARLIER = eventText('bpms_instance_change');

/**
 * Writes an earlier run's data folder into `dataDir`: {@link EARLIER} stored through the same local
 * store and stream npm start runs, and the run killed while its forward function had not answered.
 */
async function killedEarlierRun(dataDir: string): Promise<void> {
  const killed = createLocalStream({ tableName: LOCAL_TABLE_NAME, journal: join(dataDir, 'forward-pending.jsonl'), invoke: () => new Promise(() => {}), onFailure: async () => {} });
  const earlier = await startDynamoDbServer({ port: 0, dataDir, onPut: (tableName, item) => tableName === LOCAL_TABLE_NAME && killed.insert(item) });
  const client = localDynamoDbClient(localDynamoDbEndpoint(earlier.port));
  try {
    await ensureEventTable(client, LOCAL_TABLE_NAME);
    await new DynamoDbEventStore({ tableName: LOCAL_TABLE_NAME, client }).put(toRecord(parseMessage(Buffer.from(EARLIER)), DEV_CREDENTIALS.DINGTALK_OWNER_KEY, new Date()));
  } finally {
    // Else a failure here leaves the server holding mocha open.
    client.destroy();
    await earlier.close();
  }
}

/** The deliveries `receiver` took of the records `ids`, in arrival order, once it has taken `count` of them. */
async function deliveriesOf(receiver: WebhookReceiver, ids: string[], count = ids.length): Promise<Delivery[]> {
  const accepted = () => receiver.deliveries.filter((delivery) => delivery.status < 300);
  const mine = () => accepted().filter((delivery) => ids.includes(delivery.body.data.id));
  while (mine().length < count) await receiver.accepted(accepted().length + 1);
  return mine();
}

// One npm start for every test here, as a user with a DingTalk app runs it: their own DINGTALK_*
// credentials, the app (recover on its schedule, the Stream relay beside the push URL) and a webhook
// to forward to, over the data folder of an earlier run that was killed. Each test pushes events of
// its own and reads only the deliveries and records of the ids it stored.
describe('npm start with an app, Stream mode and DINGTALK_FORWARD_URL, over an earlier run\'s data folder', function () {
  this.timeout(120_000);
  let dataDir: string;
  let stack: LocalStack;
  let dingtalk: FakeDingTalk;
  let receiver: WebhookReceiver;
  let streamGateway: FakeStreamGateway;
  /** While set, the receiver answers nothing until it settles. */
  let held: Promise<void> | undefined;
  before(async function () {
    dataDir = await mkdtemp(join(tmpdir(), 'local-stack-'));
    await killedEarlierRun(dataDir);
    dingtalk = await new FakeDingTalk().start();
    receiver = await startWebhookReceiver(DEV_FORWARD_SECRET, () => (held ? { until: held, status: 204 } : 204));
    // The same app in Stream mode: npm start runs the relay beside the push URL.
    streamGateway = new FakeStreamGateway();
    streamGateway.clientId = dingtalk.appKey;
    streamGateway.clientSecret = dingtalk.appSecret;
    const gatewayBase = await streamGateway.start();
    stack = await startLocalStack(dataDir, { ...SAMPLE_ENV, DINGTALK_APP_KEY: dingtalk.appKey, DINGTALK_APP_SECRET: dingtalk.appSecret, DINGTALK_API_BASE: dingtalk.url, DINGTALK_OPENAPI_ENDPOINT: gatewayBase, DINGTALK_FORWARD_URL: receiver.url });
  });
  after(async function () {
    await stack?.stop('SIGKILL');
    await streamGateway?.close();
    await dingtalk?.stop();
    await receiver?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('forwards, first, what the earlier run left unforwarded, keeps its records, uses the DINGTALK_* variables set, and stores a redelivery once', async function () {
    const earlierId = recordId(EARLIER, DEV_CREDENTIALS.DINGTALK_OWNER_KEY);
    expect(stack.output()).to.include('; first the 1 event an earlier run stored but had not forwarded when it stopped');
    const [replayed] = await deliveriesOf(receiver, [earlierId]);
    expect(replayed?.body.data.id).to.equal(earlierId);
    const store = openLocalEventStore(localDynamoDbEndpoint(stack.dynamodbPort));
    expect((await store.get(earlierId))?.payload).to.equal(EARLIER);
    // Pushed with the development credentials, which the DINGTALK_* set replace.
    expect((await pushTo(stack, EARLIER)).status).to.equal(401);
    // The same message for another ownerKey is another owner's event; its redelivery is not.
    expect(await pushTo(stack, EARLIER, SAMPLE_ENV)).to.deep.equal({ status: 200, reply: 'success' });
    expect(await pushTo(stack, EARLIER, SAMPLE_ENV)).to.deep.equal({ status: 200, reply: 'success' });
    expect((await store.get(recordId(EARLIER, OWNER)))?.payload).to.equal(EARLIER);
    const kept = (await store.list({ eventType: 'bpms_instance_change', limit: 1000 })).records.filter((record) => record.payload === EARLIER);
    expect(kept.map((record) => record.id).sort()).to.deep.equal([earlierId, recordId(EARLIER, OWNER)].sort());
  });

  it('receives over Stream mode: an event stored, acked after, and forwarded as a pushed one is', async function () {
    const id = `${dingtalk.appKey}:event:user_leave_org:stream-evt-1`;
    expect(stack.output()).to.include(`Stream: receiving the events of ${dingtalk.appKey} over DingTalk Stream mode into this store`);
    // The scheduled stream function never runs under npm start: the relay is the one connection.
    expect(stack.output()).to.include('Scheduling [stream] cron: disabled');
    await streamGateway.until(() => streamGateway.open.length === 1, 30_000, 'npm start to open a Stream connection');
    streamGateway.push({ eventType: 'user_leave_org', eventId: 'stream-evt-1', data: JSON.stringify({ userId: ['u9'] }) });
    await streamGateway.until(() => streamGateway.acksWith('SUCCESS').length === 1, 10_000, 'the ack');
    const [streamed] = await deliveriesOf(receiver, [id]);
    expect(streamed?.body.data).to.include({ id, source: 'stream' });
    expect(stack.output()).to.include(`Stream: user_leave_org  ${id}  stored`);
  });

  it('runs recover on its schedule: a run invoked now pulls DingTalk\'s failed list from the DINGTALK_API_BASE set', async function () {
    expect(stack.output()).to.include("Recover: on its schedule, DingTalk's failed list is pulled into this store");
    expect(stack.output()).to.include('Scheduling [recover] cron: [0 */1 * * *]');
    dingtalk.failed.push(approvalItem(1, dingtalk.corpId));
    const run = await fetch(`http://localhost:${stack.lambdaPort}/2015-03-31/functions/dingtalk-callback-dev-recover/invocations`, { method: 'POST', body: '{}' });
    const answer = await run.text();
    expect([run.status, run.headers.get('x-amz-function-error')], answer).to.deep.equal([200, null]);
    expect(dingtalk.failed).to.deep.equal([]);
    const recovered = (await openLocalEventStore(localDynamoDbEndpoint(stack.dynamodbPort)).list({ limit: 1000 })).records.filter((record) => record.source === 'recovered');
    expect(recovered.map((record) => record.processInstanceId)).to.deep.equal(['proc-000001']);
  });

  it('delivers each stored event, signed with the development secret, and answers pushes without waiting for the receiver', async function () {
    expect(stack.output()).to.include(`Forwarding each new event to ${receiver.url}`);
    expect(stack.output()).to.include(`DINGTALK_FORWARD_SECRET=${DEV_FORWARD_SECRET}`);
    const store = openLocalEventStore(localDynamoDbEndpoint(stack.dynamodbPort));

    const messages = [eventText('user_add_org'), eventText('bpms_instance_change', { createTime: 1700000004000 }), eventText('check_url'), eventText('check_create_suite_url', { Random: 'abc' })];
    const ids = messages.slice(0, 2).map((message) => recordId(message, OWNER));
    // The receiver takes as long as the test likes: it answers only once every push has been answered.
    let release!: () => void;
    held = new Promise<void>((resolve) => (release = resolve));
    try {
      for (const message of messages) expect((await pushTo(stack, message, SAMPLE_ENV)).status).to.equal(200);
    } finally {
      held = undefined;
      release();
    }
    const deliveries = await deliveriesOf(receiver, ids);
    expect(receiver.rejected).to.deep.equal([]);
    const expected = await Promise.all(ids.map(async (id) => (await store.get(id))!));
    expect(deliveries.map((delivery) => delivery.id).sort()).to.deep.equal(expected.map(webhookIdOf).sort());
    expect(deliveries.map((delivery) => delivery.body.data.payload)).to.deep.include(JSON.parse(messages[1]!));

    // Handshakes are never forwarded: the stream is in order, so once an event pushed after them
    // arrives, they would have arrived before it.
    const later = eventText('org_dept_create');
    expect((await pushTo(stack, later, SAMPLE_ENV)).status).to.equal(200);
    ids.push(recordId(later, OWNER));
    expect((await deliveriesOf(receiver, ids)).map((delivery) => delivery.body.type)).to.deep.equal(['user_add_org', 'bpms_instance_change', 'org_dept_create']);
    expect(receiver.deliveries.map((delivery) => delivery.body.type).filter((type) => type.startsWith('check_'))).to.deep.equal([]);
    expect(await readFile(join(dataDir, 'forward-dead-letters.jsonl'), 'utf8').catch(() => '')).to.equal('');
    expect(stack.output()).not.to.include('张三');

    // A SyncHTTP push: one webhook per row, its webhook-id the row's record's; the ISV state kept
    // beside them (the ticket, the authorisations) is never delivered.
    const rows = [syncRow('suite_ticket'), syncRow('org_suite_auth', { corpId: 'dingforwardcorp01' }), syncRow('org_suite_auth', { corpId: 'dingforwardcorp02' })];
    const rowRecords = rows.map((row) => rowRecord(JSON.stringify(row), OWNER, new Date()));
    const last = eventText('org_dept_create', { TimeStamp: '1700000999000' });
    expect((await pushTo(stack, syncPush(rows), SAMPLE_ENV)).status).to.equal(200);
    expect((await pushTo(stack, last, SAMPLE_ENV)).status).to.equal(200);
    ids.push(...rowRecords.map((record) => record.id), recordId(last, OWNER));
    const all = await deliveriesOf(receiver, ids);
    // The rows of one push are stored side by side: the stream has them in the order their puts ended.
    expect(all.slice(3, 6).map((delivery) => delivery.id).sort()).to.deep.equal(rowRecords.map(webhookIdOf).sort());
    const types = all.map((delivery) => delivery.body.type);
    expect([...types.slice(0, 3), ...types.slice(3, 6).sort(), types[6]]).to.deep.equal(['user_add_org', 'bpms_instance_change', 'org_dept_create', 'org_suite_auth', 'org_suite_auth', 'suite_ticket', 'org_dept_create']);
    expect((await store.isvStates()).map((state) => state.kind).sort()).to.deep.equal(['authorisation', 'authorisation', 'suite_ticket']);

    // The inspector saw each batch handed to the forward function: the first three were handled before the rows' batch was taken.
    for (const id of ids.slice(0, 2)) {
      const { delivery } = (await call(`${stack.inspectorUrl}api/events/${encodeURIComponent(id)}`)).json();
      expect(delivery).to.deep.include({ state: 'delivered', by: 'stream' });
    }
  });

  // Last: it ends the stack the others use.
  it('stops on SIGTERM, closing its Stream connection and its store, having printed no AES key or app secret', async function () {
    await streamGateway.until(() => streamGateway.open.length === 1, 30_000, 'npm start to open a Stream connection');
    await stack.stop('SIGTERM');
    expect(stack.output()).to.include('Local DynamoDB stopped');
    await streamGateway.until(() => streamGateway.open.length === 0, 5000, 'the Stream connection closed');
    for (const secret of [DEV_CREDENTIALS.DINGTALK_AES_KEY, SAMPLE_ENV.DINGTALK_AES_KEY, dingtalk.appSecret]) expect(stack.output()).not.to.include(secret);
  });
});
