import { expect } from 'chai';
import type { RelaySummary } from '../../core/stream-relay';
import { LEASE_MARGIN_MS } from '../../core/stream-lease';
import { ensureEventTable } from '../../deploy/aliyun/tablestore-tables';
import { createHandler } from '../../handlers/aliyun/stream';
import type { FcHandler } from '../../providers/aliyun/function-compute';
import { createTablestoreClient } from '../../providers/aliyun/tablestore-client';
import { TablestoreEventStore } from '../../providers/aliyun/tablestore-store';
import { FakeStreamGateway } from '../../testkit/fake-stream-gateway';
import { itHoldsLeases } from '../../testkit/stream-function';
import { startTablestoreServer, type LocalTablestore } from '../../testkit/tablestore-server';

describe('stream on Alibaba Cloud: the Function Compute handler against the fake Stream gateway, into Tablestore (local server)', function () {
  let tablestore: LocalTablestore;
  let gateway: FakeStreamGateway;
  let store: TablestoreEventStore;
  let env: Record<string, string>;

  beforeEach(async function () {
    tablestore = await startTablestoreServer();
    const client = createTablestoreClient(tablestore.clientOptions);
    await ensureEventTable(client, 'events');
    store = new TablestoreEventStore({ tableName: 'events', client });
    gateway = new FakeStreamGateway();
    const base = await gateway.start();
    env = {
      EVENTS_TABLE: 'events', TABLESTORE_ENDPOINT: tablestore.endpoint, TABLESTORE_INSTANCE: tablestore.instance,
      DINGTALK_OPENAPI_ENDPOINT: base, DINGTALK_APP_KEY: gateway.clientId, DINGTALK_APP_SECRET: gateway.clientSecret,
    };
  });
  afterEach(async function () {
    await gateway.close();
    await tablestore.close();
  });

  const credentials = () => ({ accessKeyId: tablestore.credentials.accessKeyId, accessKeySecret: tablestore.credentials.secretAccessKey });
  /** One timer invocation of a function whose timeout (whole seconds, as FC configures it) leaves the relay about `leaseMs`. */
  const invoke = (handler: FcHandler<RelaySummary>, leaseMs: number) =>
    new Promise<RelaySummary>((resolve, reject) =>
      handler(Buffer.from('{"triggerName":"stream-timer"}'), { requestId: 'r1', credentials: credentials(), function: { timeout: (leaseMs + LEASE_MARGIN_MS) / 1000 } }, (error, summary) =>
        error ? reject(error) : resolve(summary!),
      ),
    );

  itHoldsLeases(() => {
    const handler = createHandler({ env, log: () => {} });
    return { gateway, store, invoke: (leaseMs) => invoke(handler, leaseMs) };
  });

  it('names every bad setting at once, opens no connection, and reads them again at the next invocation', async function () {
    const settings = { ...env, DINGTALK_APP_SECRET: '', TABLESTORE_INSTANCE: '', DINGTALK_STREAM_LEASE_SECONDS: 'soon' };
    const handler = createHandler({ env: settings, log: () => {} });
    const failure = (await invoke(handler, 500).catch((error: unknown) => error)) as Error;
    expect(failure.message).to.equal('DINGTALK_APP_SECRET: is not set; TABLESTORE_INSTANCE: is not set; DINGTALK_STREAM_LEASE_SECONDS: must be a whole number of seconds, 10 or more');
    expect(gateway.opens).to.equal(0);
    Object.assign(settings, env, { DINGTALK_STREAM_LEASE_SECONDS: '' });
    expect(await invoke(handler, 300)).to.include({ opens: 1 });
  });
});
