import { expect } from 'chai';
import { openReply, type Push } from '../../core/dingtalk-side';
import { createHandler, type ApiGatewayResponse, type FcHttpHandler } from '../../handlers/aliyun/callback';
import type { FcContext } from '../../providers/aliyun/function-compute';
import { createTablestoreClient } from '../../providers/aliyun/tablestore-client';
import { TablestoreEventStore } from '../../providers/aliyun/tablestore-store';
import { ensureEventTable } from '../../deploy/aliyun/tablestore-tables';
import { captureOutput } from '../../testkit/capture-output';
import { itHoldsUnderAttack } from '../../testkit/handler-under-attack';
import { recordId, loadJson } from '../../testkit/fixtures';
import { freshDingTalkEnv, SecretLedger } from '../../testkit/hostile-pushes';
import { startTablestoreServer, type LocalTablestore, type TablestoreFailure } from '../../testkit/tablestore-server';
import { fcGatewayEvent } from '../../testkit/gateway-events';

const TABLE = 'dingtalk_events';
const CONTEXT = loadJson<FcContext>('fc-context');

/** The API Gateway event of a request, as Function Compute hands it over: a Buffer of JSON. */
function gatewayEvent(method: string, query: Record<string, string>, body?: string): Buffer {
  return Buffer.from(JSON.stringify(fcGatewayEvent({ method, query, body })));
}

const pushEvent = (push: Push) => gatewayEvent('POST', push.query, push.body);

describe('handlers/aliyun: hostile input, duplicate storms, large pushes and Tablestore errors', function () {
  const ledger = new SecretLedger(freshDingTalkEnv());
  let server: LocalTablestore;
  let store: TablestoreEventStore;
  /** The handler as deployed (the default put deadline), with its default logger, which writes to stdout. */
  let handler: FcHttpHandler;
  /**
   * The same with a put deadline of 10 s: on a busy machine a healthy put may take over a second,
   * and only the outage tests are about the deadline.
   */
  let patientHandler: FcHttpHandler;
  let context: FcContext;
  let invocations = 0;
  const invoke = (event: Buffer, through = patientHandler) =>
    new Promise<ApiGatewayResponse>((resolve, reject) => through(event, { ...context, requestId: `request-${++invocations}` }, (error, response) => (error ? reject(error) : resolve(response!))));
  const replyOf = (response: ApiGatewayResponse) => openReply(ledger.settings, response.body, ledger.ownerKey);

  before(async function () {
    server = await startTablestoreServer();
    const client = createTablestoreClient({ ...server.clientOptions });
    await ensureEventTable(client, TABLE);
    store = new TablestoreEventStore({ tableName: TABLE, client });
    const env = { ...ledger.env, EVENTS_TABLE: TABLE, TABLESTORE_ENDPOINT: server.endpoint, TABLESTORE_INSTANCE: server.instance };
    handler = createHandler({ env });
    patientHandler = createHandler({ env: { ...env, TABLESTORE_PUT_DEADLINE_MS: '10000' } });
    const { accessKeyId, secretAccessKey } = server.credentials;
    context = { ...CONTEXT, credentials: { accessKeyId, accessKeySecret: secretAccessKey } };
  });
  afterEach(() => server.recover());
  after(() => server.close());

  itHoldsUnderAttack({ ledger, send: (method, query, body) => invoke(gatewayEvent(method, query, body)), store: () => store });

  it('stores an attendance push of 4,000 records, over 400 KB, and reads it back exactly', async function () {
    const DataList = Array.from({ length: 4000 }, (_, i) => ({ bizId: `1005-${i}`, userId: `user${i % 500}`, checkTime: 1_700_000_000_000 + i * 1000, address: `杭州市余杭区文一西路${969 + (i % 50)}号 🏢` }));
    const message = ledger.message('attendance_check_record', { DataList });
    expect(Buffer.byteLength(message)).to.be.above(400 * 1024);
    const { result } = await captureOutput(() => invoke(pushEvent(ledger.seal(message))));
    expect(replyOf(result)).to.equal('success');
    expect((await store.get(recordId(message, ledger.ownerKey)))?.payload).to.equal(message);
  });

  describe('Tablestore answering errors: 503 with nothing stored, then the same push stored once it recovers', function () {
    const failures: TablestoreFailure[] = [
      { code: 'OTSServerBusy', status: 503 },
      { code: 'OTSNotEnoughCapacityUnit', status: 403, message: 'Remaining capacity unit is not enough.' },
      { code: 'OTSPartitionUnavailable', status: 503, message: 'The partition is not available.' },
      { code: 'OTSInternalServerError', status: 500, message: 'Internal server error.' },
    ];
    for (const [n, failure] of failures.entries()) {
      it(`${failure.status} ${failure.code}`, async function () {
        const message = ledger.message('user_add_org', { TimeStamp: String(1_700_000_100_000 + n) });
        const event = pushEvent(ledger.seal(message));
        server.failWith({ ...failure, operations: ['PutRow'] });
        const { result: failed, pushLogs } = await captureOutput(() => invoke(event, handler));
        await expectUnavailableThenStored(message, event, failed, pushLogs);
      });
    }
  });

  it('Tablestore accepting PutRow and never answering: 503 within the put deadline, nothing stored, then stored once it answers again', async function () {
    const message = ledger.message('user_add_org', { TimeStamp: '1700000200000' });
    const event = pushEvent(ledger.seal(message));
    const puts = server.requests.get('PutRow') ?? 0;
    server.hang(['PutRow']);
    const { result: failed, pushLogs } = await captureOutput(() => invoke(event, handler));
    expect(server.requests.get('PutRow') ?? 0, 'the put reached the server').to.be.above(puts);
    await expectUnavailableThenStored(message, event, failed, pushLogs);
  });
  /**
   * The outage answered 503 with one error line and nothing stored while it lasts; the same push,
   * once the store is back (`server.recover()`), is stored. "Nothing stored" is read before the
   * store is back: a try the put deadline cut short while it was on its way may still land then,
   * as it may in the cloud (the put's condition makes that harmless, and the retry is a duplicate).
   */
  async function expectUnavailableThenStored(message: string, event: Buffer, failed: ApiGatewayResponse, pushLogs: readonly object[]): Promise<void> {
    expect(failed.statusCode).to.equal(503);
    expect(JSON.parse(failed.body)).to.include({ error: 'store_unavailable' });
    expect(pushLogs).to.have.length(1);
    expect(pushLogs[0]).to.include({ level: 'error', outcome: 'store_failed', status: 503, id: recordId(message, ledger.ownerKey) });
    expect(await store.get(recordId(message, ledger.ownerKey)), 'nothing stored').to.equal(undefined);

    server.recover();
    const { result: again } = await captureOutput(() => invoke(event));
    expect(replyOf(again)).to.equal('success');
    expect((await store.get(recordId(message, ledger.ownerKey)))?.payload).to.equal(message);
  }
});
