import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { SuiteTicketState } from '../../core/isv-state';
import TableStore from 'tablestore';
import { plainBufferRow, putRowRequest, signedHeaders, TablestorePutClient, TablestorePutError, type RowPut } from '../../providers/aliyun/tablestore-put-client';
import { toRow } from '../../providers/aliyun/tablestore-row';
import { statePut } from '../../providers/aliyun/tablestore-state';
import { ensureEventTable } from '../../deploy/aliyun/tablestore-tables';
import { createTablestoreClient } from '../../providers/aliyun/tablestore-client';
import { sampleRecord } from '../../testkit/store-contract';
import { startTablestoreServer, type LocalTablestore } from '../../testkit/tablestore-server';

/** The SDK's own encoder and signer, which the small client must match byte for byte. */
const sdk = TableStore as unknown as {
  encoder: { encode(operation: string, params: object): object };
  Signer: new (request: { path: string; method: string; headers: Record<string, string> }) => { addAuthorization(credentials: object, date: Date): void };
};

/** The SDK's PutRow body for the same write. */
function sdkBody(put: RowPut): Buffer {
  const column = put.olderThan && new TableStore.SingleColumnCondition(put.olderThan.column, TableStore.Long.fromNumber(Number(put.olderThan.value)), TableStore.ComparatorType.LESS_THAN, true);
  const request = sdk.encoder.encode('putRow', {
    tableName: put.tableName,
    condition: new TableStore.Condition(put.expect === 'notExist' ? TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST : TableStore.RowExistenceExpectation.IGNORE, column ?? null),
    primaryKey: put.primaryKey.map(([name, value]) => ({ [name]: value })),
    attributeColumns: put.columns.map(([name, value]) => ({ [name]: typeof value === 'bigint' ? TableStore.Long.fromNumber(Number(value)) : value })),
  });
  return Buffer.from((Object.getPrototypeOf(request) as { constructor: { encode(message: object): { finish(): Uint8Array } } }).constructor.encode(request).finish());
}

/** A suite's latest ticket, as the writer keeps it beside the events. */
const SUITE_TICKET_STATE: SuiteTicketState = { kind: 'suite_ticket', suiteKey: 'suite4xxxxxxxxxxxxxxx', ticket: 'ticket-1', time: 1_700_000_000_000, recordId: 'suite4xxxxxxxxxxxxxxx:event:suite_ticket:1', storedAt: '2026-03-01T08:09:10.123Z' };

describe('providers/aliyun/tablestore-put-client: PutRow without the SDK', function () {
  const chinese = sampleRecord(7, { payload: JSON.stringify({ EventType: 'bpms_instance_change', title: '张三提交的请假申请 🏖️' }), eventTime: 1_700_000_000_123 });
  const puts: Array<[string, RowPut]> = [
    ['an event, expected not to exist, with Chinese text and its integer eventTime', { tableName: 'events', ...toRow(chinese), expect: 'notExist' }],
    ['an event without optional fields', { tableName: 'dingtalk_callback_dev_events', ...toRow(sampleRecord(1)), expect: 'notExist' }],
    ["an ISV state, on its time's column condition", { tableName: 'events', ...statePut(SUITE_TICKET_STATE) }],
  ];

  for (const [what, put] of puts) {
    it(`sends the bytes the SDK sends for ${what}`, function () {
      expect(putRowRequest(put).equals(sdkBody(put))).to.equal(true);
    });
  }

  it("signs the x-ots-* headers as the SDK's signer does, STS token included", function () {
    const body = putRowRequest(puts[0]![1]);
    const date = new Date('2026-03-01T08:09:10.123Z');
    for (const keys of [{ endpoint: 'https://i.cn-hangzhou.ots.aliyuncs.com', instance: 'i', accessKeyId: 'LTAI-a', secretAccessKey: 'secret' }, { endpoint: 'https://x', instance: 'x', accessKeyId: 'STS.b', secretAccessKey: 's2', securityToken: 'token/+=' }]) {
      const ours = signedHeaders(keys, '/PutRow', body, date);
      const request = { path: '/PutRow', method: 'POST', headers: { 'x-ots-apiversion': '2015-12-31', 'x-ots-instancename': keys.instance, 'x-ots-contentmd5': ours['x-ots-contentmd5']! } };
      new sdk.Signer(request).addAuthorization({ accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey, securityToken: keys.securityToken }, date);
      expect(ours).to.deep.equal(request.headers);
    }
  });

  it("checksums each cell and the row as the SDK's PlainBuffer reader checks them", function () {
    const row = plainBufferRow(toRow(chinese));
    const input = new TableStore.PlainBufferInputStream({ buffer: row, offset: 0, limit: row.length });
    const read = new TableStore.PlainBufferCodedInputStream(input).readRow();
    expect(read.primaryKey?.map((cell) => [cell.name, cell.value])).to.deep.equal([['id', chinese.id]]);
    const payload = read.attributes?.find((cell) => cell.columnName === 'payload');
    expect(payload?.columnValue).to.equal(chinese.payload);
    // A flipped byte in a cell fails its checksum.
    const tampered = Buffer.from(row);
    const at = row.indexOf(Buffer.from('张三'));
    tampered[at] = tampered[at]! ^ 1;
    expect(() => new TableStore.PlainBufferCodedInputStream(new TableStore.PlainBufferInputStream({ buffer: tampered, offset: 0, limit: tampered.length })).readRow()).to.throw();
  });

  describe('against the local Tablestore server', function () {
    let server: LocalTablestore;
    let client: TablestorePutClient;
    before(async function () {
      server = await startTablestoreServer();
      await ensureEventTable(createTablestoreClient(server.clientOptions), 'events');
      client = new TablestorePutClient(server.clientOptions);
    });
    afterEach(() => server.recover());
    after(async function () {
      client.destroy();
      await server.close();
    });

    const rejection = (promise: Promise<unknown>) => promise.then(() => expect.fail('the put was accepted'), (error: unknown) => error as TablestorePutError);

    it("writes a row the SDK reads back, and answers a row that exists with Tablestore's OTSConditionCheckFail", async function () {
      const put: RowPut = { tableName: 'events', ...toRow(chinese), expect: 'notExist' };
      await client.putRow(put);
      const { row } = await createTablestoreClient(server.clientOptions).getRow({ tableName: 'events', primaryKey: [{ id: chinese.id }], maxVersions: 1 });
      expect(row.attributes?.find((cell) => cell.columnName === 'payload')?.columnValue).to.equal(chinese.payload);
      expect(String(row.attributes?.find((cell) => cell.columnName === 'eventTime')?.columnValue)).to.equal('1700000000123');
      const refused = await rejection(client.putRow(put));
      expect(refused).to.be.instanceOf(TablestorePutError);
      expect([refused.code, refused.status]).to.deep.equal(['OTSConditionCheckFail', 403]);
    });

    it('retries a busy server twice, as the SDK does a put, and nothing it cannot know landed', async function () {
      const before = () => server.requests.get('PutRow') ?? 0;
      let sent = before();
      server.failWith({ code: 'OTSServerBusy' });
      expect((await rejection(client.putRow({ tableName: 'events', ...toRow(sampleRecord(2)) }))).code).to.equal('OTSServerBusy');
      expect(before() - sent).to.equal(3);
      sent = before();
      server.failWith({ status: 500, code: 'OTSInternalServerError' });
      expect((await rejection(client.putRow({ tableName: 'events', ...toRow(sampleRecord(3)) }))).code).to.equal('OTSInternalServerError');
      expect(before() - sent).to.equal(1);
    });

    it('is refused, once, with keys the instance does not know', async function () {
      const stranger = new TablestorePutClient({ ...server.clientOptions, secretAccessKey: 'wrong' });
      const error = await rejection(stranger.putRow({ tableName: 'events', ...toRow(sampleRecord(4)) }));
      stranger.destroy();
      expect([error.code, error.status]).to.deep.equal(['OTSAuthFailed', 403]);
    });

    it('ends a put that gets no answer when its signal aborts, with the signal’s reason', async function () {
      server.hang(['PutRow']);
      const error = await rejection(client.putRow({ tableName: 'events', ...toRow(sampleRecord(5)) }, AbortSignal.timeout(100)));
      expect(error).to.have.property('name', 'TimeoutError');
    });

    it('gives a put up as soon as its signal aborts, between two tries too, not once the backoff is over', async function () {
      server.failWith({ code: 'OTSServerBusy' }); // tried again after 250–500 ms
      const put = rejection(client.putRow({ tableName: 'events', ...toRow(sampleRecord(7)) }, AbortSignal.timeout(50)));
      // Timers fire in the order they are due, however late: this one after the signal's, before any backoff ends.
      const first = await Promise.race([put, new Promise((resolve) => setTimeout(() => resolve('the backoff ran its course'), 240))]);
      expect(first).to.have.property('name', 'TimeoutError');
    });

    it("names a connection's failure by its code", async function () {
      const closed: Server = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      const nowhere = new TablestorePutClient({ ...server.clientOptions, endpoint: `http://127.0.0.1:${port}` });
      expect((await rejection(nowhere.putRow({ tableName: 'events', ...toRow(sampleRecord(6)) }))).code).to.equal('ECONNREFUSED');
      nowhere.destroy();
    });
  });
});
