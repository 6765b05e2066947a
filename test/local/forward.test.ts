import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pushUrl, sealPush } from '../../core/dingtalk-side';
import { loadSettings } from '../../core/settings';
import { rowRecord } from '../../core/sync-push';
import { syncPush, syncRow } from '../../cli/sync-rows';
import { webhookIdOf } from '../../core/webhook';
import { DEV_CREDENTIALS, DEV_FORWARD_SECRET } from '../../providers/local/dev-credentials';
import { localDynamoDbEndpoint, openLocalEventStore } from '../../providers/local/local-dynamodb';
import { eventText, recordId } from '../../testkit/fixtures';
import { call } from '../../testkit/inspector';
import { startLocalStack, type LocalStack } from '../../testkit/local-stack';
import { startWebhookReceiver, type WebhookReceiver } from '../../testkit/webhook-receiver';

const DEV = loadSettings(DEV_CREDENTIALS);

async function push(stack: LocalStack, message: string): Promise<number> {
  const sealed = sealPush(DEV, message, DEV_CREDENTIALS.DINGTALK_OWNER_KEY);
  const response = await fetch(pushUrl(stack.pushUrl, sealed), { method: 'POST', body: sealed.body });
  await response.text();
  return response.status;
}

describe('npm start with DINGTALK_FORWARD_URL: the local stream feeds the forward function', function () {
  this.timeout(180_000);
  let dataDir: string;
  let stack: LocalStack | undefined;
  let receiver: WebhookReceiver | undefined;
  after(async function () {
    await stack?.stop('SIGKILL');
    await receiver?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('delivers each stored event, signed with the development secret, and answers pushes without waiting for the receiver', async function () {
    dataDir = await mkdtemp(join(tmpdir(), 'local-forward-'));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The receiver takes as long as the test likes: it answers only once every push has been answered.
    receiver = await startWebhookReceiver(DEV_FORWARD_SECRET, () => ({ until: held, status: 204 }));
    stack = await startLocalStack(dataDir, { DINGTALK_FORWARD_URL: receiver.url });
    expect(stack.output()).to.include(`Forwarding each new event to ${receiver.url}`);
    expect(stack.output()).to.include(`DINGTALK_FORWARD_SECRET=${DEV_FORWARD_SECRET}`);

    const messages = [eventText('user_add_org'), eventText('bpms_instance_change'), eventText('check_url'), eventText('check_create_suite_url', { Random: 'abc' })];
    for (const message of messages) expect(await push(stack, message)).to.equal(200);
    release();
    const deliveries = await receiver.accepted(2);
    expect(receiver.rejected).to.deep.equal([]);
    const store = openLocalEventStore(localDynamoDbEndpoint(stack.dynamodbPort));
    const expected = await Promise.all(messages.slice(0, 2).map(async (message) => (await store.get(recordId(message, DEV_CREDENTIALS.DINGTALK_OWNER_KEY)))!));
    expect(deliveries.map((delivery) => delivery.id).sort()).to.deep.equal(expected.map(webhookIdOf).sort());
    expect(deliveries.map((delivery) => delivery.body.data.payload)).to.deep.include(JSON.parse(messages[1]!));

    // Handshakes are never forwarded: the stream is in order, so once an event pushed after them
    // arrives, they would have arrived before it.
    expect(await push(stack, eventText('org_dept_create'))).to.equal(200);
    await receiver.accepted(3);
    expect(receiver.deliveries.map((delivery) => delivery.body.type)).to.deep.equal(['user_add_org', 'bpms_instance_change', 'org_dept_create']);
    expect(await readFile(join(dataDir, 'forward-dead-letters.jsonl'), 'utf8').catch(() => '')).to.equal('');
    expect(stack.output()).not.to.include('张三');

    // A SyncHTTP push: one webhook per row, its webhook-id the row's record's; the ISV state kept
    // beside them (the ticket, the authorisations) is never delivered.
    const rows = [syncRow('suite_ticket'), syncRow('org_suite_auth', { corpId: 'dingforwardcorp01' }), syncRow('org_suite_auth', { corpId: 'dingforwardcorp02' })];
    expect(await push(stack, syncPush(rows))).to.equal(200);
    expect(await push(stack, eventText('org_dept_create', { TimeStamp: '1700000999000' }))).to.equal(200);
    await receiver.accepted(7);
    const rowIds = rows.map((row) => rowRecord(JSON.stringify(row), DEV_CREDENTIALS.DINGTALK_OWNER_KEY, new Date()));
    // The rows of one push are stored side by side: the stream has them in the order their puts ended.
    expect(receiver.deliveries.slice(3, 6).map((delivery) => delivery.id).sort()).to.deep.equal(rowIds.map(webhookIdOf).sort());
    const types = receiver.deliveries.map((delivery) => delivery.body.type);
    expect([...types.slice(0, 3), ...types.slice(3, 6).sort(), types[6]]).to.deep.equal(['user_add_org', 'bpms_instance_change', 'org_dept_create', 'org_suite_auth', 'org_suite_auth', 'suite_ticket', 'org_dept_create']);
    expect((await store.isvStates()).map((state) => state.kind).sort()).to.deep.equal(['authorisation', 'authorisation', 'suite_ticket']);

    // The inspector saw each batch handed to the forward function: the first three were handled before the rows' batch was taken.
    for (const message of [messages[0]!, messages[1]!]) {
      const { delivery } = (await call(`${stack.inspectorUrl}api/events/${encodeURIComponent(recordId(message, DEV_CREDENTIALS.DINGTALK_OWNER_KEY))}`)).json();
      expect(delivery).to.deep.include({ state: 'delivered', by: 'stream' });
    }
  });
});
