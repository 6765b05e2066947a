import { expect } from 'chai';
import TableStore from 'tablestore';
import type { EventRecord } from '../../core/events';
import type { ForwardLog } from '../../core/forward';
import { stateId } from '../../core/isv-state';
import { webhookIdOf } from '../../core/webhook';
import { createHandler, type FcForwardHandler, type ForwardSummary } from '../../handlers/aliyun/forward';
import type { FcContext } from '../../providers/aliyun/function-compute';
import { createTablestoreClient } from '../../providers/aliyun/tablestore-client';
import { ALIYUN_TABLES } from '../../core/table-names';
import { ensureDeadLetterTable } from '../../deploy/aliyun/tablestore-tables';
import { loadJson } from '../../testkit/fixtures';
import { sampleRecord } from '../../testkit/store-contract';
import { tablestoreTriggerEvent } from '../../testkit/stream-events';
import { startTablestoreServer, type LocalTablestore } from '../../testkit/tablestore-server';
import { startWebhookReceiver, TEST_WEBHOOK_SECRET, type WebhookReceiver } from '../../testkit/webhook-receiver';

const TABLE = 'dingtalk_events';
const FAST_RETRY = { attempts: 2, firstDelayMs: 5, maxDelayMs: 10 };

function invoke(handler: FcForwardHandler, event: Uint8Array, context: FcContext): Promise<ForwardSummary> {
  return new Promise((resolve, reject) => handler(Buffer.from(event), context, (error, summary) => (error ? reject(error) : resolve(summary!))));
}

describe('Alibaba Cloud forward handler (Tablestore trigger, CBOR → webhook, dead-letter table)', function () {
  let server: LocalTablestore;
  let client: TableStore.Client;
  let receiver: WebhookReceiver | undefined;
  let context: FcContext;
  let env: Record<string, string>;
  const lines: unknown[] = [];
  before(async function () {
    server = await startTablestoreServer();
    client = createTablestoreClient(server.clientOptions);
    expect(await ensureDeadLetterTable(client, ALIYUN_TABLES.deadLettersOf(TABLE))).to.equal('created');
    expect(await ensureDeadLetterTable(client, ALIYUN_TABLES.deadLettersOf(TABLE))).to.equal('unchanged');
    const { credentials } = server;
    context = { ...loadJson<FcContext>('fc-context'), credentials: { accessKeyId: credentials.accessKeyId, accessKeySecret: credentials.secretAccessKey } };
  });
  afterEach(async function () {
    await receiver?.close();
    receiver = undefined;
  });
  after(async function () {
    await server.close();
  });
  const handlerFor = async (answer?: () => number) => {
    receiver = await startWebhookReceiver(TEST_WEBHOOK_SECRET, answer);
    env = { EVENTS_TABLE: TABLE, TABLESTORE_ENDPOINT: server.endpoint, TABLESTORE_INSTANCE: server.instance, DINGTALK_FORWARD_URL: receiver.url, DINGTALK_FORWARD_SECRET: TEST_WEBHOOK_SECRET };
    return createHandler({ env, retry: FAST_RETRY, log: (line) => lines.push(line) });
  };

  it('forwards the new rows of the documented trigger event, and neither the suite check, the update nor the delete', async function () {
    const handler = await handlerFor();
    expect(await invoke(handler, await tablestoreTriggerEvent(), context)).to.deep.equal({ delivered: 1, deadLettered: 0, skipped: 3 });
    expect(receiver!.rejected).to.deep.equal([]);
    const [delivery] = receiver!.deliveries;
    expect(delivery!.body.type).to.equal('bpms_instance_change');
    expect(delivery!.body.data).to.include({ id: 'ding6ccabc44d2c8d38b:sha256:9f2c4e1a7b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8', source: 'push', eventTime: 1700000003000, processInstanceId: 'a171de6c-8bb1-4a3e-b2d4-5f1e6c8d9e01' });
    expect(delivery!.body.data.payload).to.deep.include({ title: '张三提交的请假申请 🏖️' });
  });

  it('skips the ISV state rows kept beside the events (a ticket replaced is a new PutRow)', async function () {
    const handler = await handlerFor();
    const ticket = { id: stateId({ kind: 'suite_ticket', suiteKey: 'suitekey01' }), state: '{"kind":"suite_ticket"}', stateTime: 1_700_000_000_000 } as unknown as EventRecord;
    expect(await invoke(handler, await tablestoreTriggerEvent([ticket, sampleRecord(7)]), context)).to.deep.equal({ delivered: 1, deadLettered: 0, skipped: 1 });
    expect(receiver!.deliveries.map((delivery) => delivery.body.data.id)).to.deep.equal([sampleRecord(7).id]);
    expect(lines).to.deep.include({ level: 'warn', msg: 'forward_batch', records: 1, skipped: 'an ISV state row, not an event' });
  });

  it('writes a record no retry delivered to the dead-letter table, with its id and the reason, and lets the batch succeed', async function () {
    const handler = await handlerFor(() => 502);
    const record = sampleRecord(11);
    expect(await invoke(handler, await tablestoreTriggerEvent([record]), context)).to.deep.equal({ delivered: 0, deadLettered: 1, skipped: 0 });
    const { rows } = await client.getRange({
      tableName: ALIYUN_TABLES.deadLettersOf(TABLE),
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ deadLetterId: TableStore.INF_MIN }],
      exclusiveEndPrimaryKey: [{ deadLetterId: TableStore.INF_MAX }],
      limit: 10,
    });
    expect(rows).to.have.length(1);
    const columns = Object.fromEntries(rows[0]!.attributes!.map(({ columnName, columnValue }) => [columnName, typeof columnValue === 'object' && 'toNumber' in columnValue ? columnValue.toNumber() : columnValue]));
    expect(columns).to.include({ id: record.id, webhookId: webhookIdOf(record), sink: 'webhook', reason: 'HTTP 502', attempts: 2 });
    expect(JSON.stringify(rows)).not.to.include('请假');
  });

  it('fails the batch, for the trigger to retry, only when the dead letter cannot be written either', async function () {
    const handler = await handlerFor(() => 500);
    server.failWith({ operations: ['PutRow'] });
    try {
      const error = await invoke(handler, await tablestoreTriggerEvent([sampleRecord(12)]), context).catch((caught: unknown) => caught);
      expect((error as Error).message).to.include('the trigger retries the batch');
    } finally {
      server.recover();
    }
    expect(lines.some((line) => (line as ForwardLog).outcome === 'dead_letter_failed')).to.equal(true);
  });

  it('acknowledges every batch and forwards nothing when no webhook is set', async function () {
    const handler = createHandler({ env: { EVENTS_TABLE: TABLE, TABLESTORE_ENDPOINT: server.endpoint, TABLESTORE_INSTANCE: server.instance }, log: () => {} });
    expect(await invoke(handler, await tablestoreTriggerEvent([sampleRecord(13)]), context)).to.deep.equal({ delivered: 0, deadLettered: 0, skipped: 1 });
  });

  it('names every bad setting at once, an event bus (there is none on Alibaba Cloud) included', async function () {
    const handler = createHandler({ env: { EVENTS_TABLE: TABLE, TABLESTORE_ENDPOINT: server.endpoint, DINGTALK_FORWARD_URL: 'ftp://example.com/', DINGTALK_FORWARD_SECRET: TEST_WEBHOOK_SECRET }, log: () => {} });
    const error = await invoke(handler, await tablestoreTriggerEvent([sampleRecord(14)]), context).catch((caught: unknown) => caught);
    expect((error as Error).message).to.match(/^DINGTALK_FORWARD_URL: .*; TABLESTORE_INSTANCE: is not set$/);
    const bus = createHandler({ env: { EVENTS_TABLE: TABLE, TABLESTORE_ENDPOINT: server.endpoint, TABLESTORE_INSTANCE: server.instance, DINGTALK_EVENT_BUS: 'default' }, log: () => {} });
    expect(((await invoke(bus, await tablestoreTriggerEvent([sampleRecord(15)]), context).catch((caught: unknown) => caught)) as Error).message).to.contain('DINGTALK_EVENT_BUS');
  });

  it('refuses what is no Tablestore trigger event', async function () {
    const handler = await handlerFor();
    const error = await invoke(handler, Buffer.from('{"not": "cbor"}'), context).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(TypeError);
  });
});
