import { expect } from 'chai';
import TableStore from 'tablestore';
import { StoreError, UnstorableEventError } from '../../core/errors';
import { PUT_DEADLINE_MS } from '../../core/store';
import type { EventRecord } from '../../core/events';
import { createTablestoreClient } from '../../providers/aliyun/tablestore-client';
import { otsCode } from '../../providers/aliyun/tablestore-errors';
import { TablestorePutClient } from '../../providers/aliyun/tablestore-put-client';
import { toRow } from '../../providers/aliyun/tablestore-row';
import { TablestoreEventStore } from '../../providers/aliyun/tablestore-store';
import { ensureEventTable } from '../../deploy/aliyun/tablestore-tables';
import { eventIndexes } from '../../providers/aliyun/tablestore-schema';
import { TablestoreEventWriter } from '../../providers/aliyun/tablestore-writer';
import { freePort } from '../../testkit/ports';
import { describeEventStoreContract, sampleRecord, type MeasuredTable } from '../../testkit/store-contract';
import { describeSyncRows } from '../../testkit/sync-contract';
import { startTablestoreServer, type LocalTablestore } from '../../testkit/tablestore-server';

/** What a promise rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) expect.fail(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).to.be.instanceOf(Error);
  return outcome.error as Error;
}

describe('Tablestore', function () {
  let server: LocalTablestore;
  let client: TableStore.Client;
  let tables = 0;
  before(async function () {
    server = await startTablestoreServer();
    client = createTablestoreClient(server.clientOptions);
  });
  afterEach(() => server.recover());
  after(() => server.close());

  /** A store over a new, empty table of the local server. */
  async function freshStore(): Promise<TablestoreEventStore> {
    const tableName = `events_${++tables}`;
    await ensureEventTable(client, tableName);
    return new TablestoreEventStore({ tableName, client });
  }

  /** A fresh table holding `records`, written 200 to a BatchWriteRow; the server counts the rows read. */
  async function largeTable(records: EventRecord[]): Promise<MeasuredTable> {
    const store = await freshStore();
    const tableName = `events_${tables}`;
    for (let i = 0; i < records.length; i += 200) {
      const rows = records.slice(i, i + 200).map((record) => {
        const { primaryKey, columns } = toRow(record);
        const attributeColumns = columns.map(([name, value]) => ({ [name]: typeof value === 'bigint' ? TableStore.Long.fromNumber(Number(value)) : value }));
        return { type: 'PUT' as const, condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null), primaryKey: primaryKey.map(([name, value]) => ({ [name]: value })), attributeColumns };
      });
      const { tables: written } = await client.batchWriteRow({ tables: [{ tableName, rows }] });
      expect(written.filter((row) => !row.isOk)).to.deep.equal([]);
    }
    return { store, itemsRead: server.rowsRead };
  }

  let deadPort: number;
  before(async () => (deadPort = await freePort()));
  describeEventStoreContract('TablestoreEventStore', {
    open: freshStore,
    large: largeTable,
    unreachable: () => new TablestoreEventStore({ tableName: 'events', client: createTablestoreClient({ ...server.clientOptions, endpoint: `http://127.0.0.1:${deadPort}` }) }),
  });

  describeSyncRows('TablestoreEventStore', async () => ({ store: await freshStore(), close: async () => {} }));

  describe('TablestoreEventStore beyond the contract', function () {
    it('turns a server failure into a StoreError naming the Tablestore code, for writes and reads', async function () {
      const store = await freshStore();
      server.failWith({ operations: ['PutRow', 'GetRow', 'GetRange'] });
      for (const call of [() => store.put(sampleRecord(1)), () => store.get('evt'), () => store.list({ eventType: 'x' })]) {
        const error = await rejection(call());
        expect(error).to.be.instanceOf(StoreError);
        expect(error.message).to.contain('OTSServerBusy');
      }
      server.recover();
      expect(await store.put(sampleRecord(1))).to.equal('created');
    });

    it('fails a put that gets no answer with a StoreError at its deadline, even with a client that would wait forever', async function () {
      const store = await freshStore();
      const patient = new TablestorePutClient(server.clientOptions);
      const writer = new TablestoreEventWriter({ tableName: store.tableName, client: patient, putDeadlineMs: 200 });
      server.hang(['PutRow']);
      const error = await rejection(writer.put(sampleRecord(1)));
      server.recover();
      expect(error).to.be.instanceOf(StoreError);
      expect(error.message).to.contain('PutDeadlineExceeded');
      expect(await store.get(sampleRecord(1).id)).to.equal(undefined);
    });

    it('gives a put of the tools longer than a function’s deadline: still waiting where the function’s put has failed', async function () {
      const store = await freshStore();
      server.hang(['PutRow']);
      let settled = false;
      const putting = store.put(sampleRecord(1)).finally(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, PUT_DEADLINE_MS + 500));
      expect(settled, `pending after ${PUT_DEADLINE_MS + 500} ms`).to.equal(false);
      server.recover();
      const error = await rejection(putting);
      expect(error.message).not.to.contain('PutDeadlineExceeded');
    });

    it('does not retry a failed write, so a push fails fast and DingTalk retries it', async function () {
      const store = await freshStore();
      const before = server.requests.get('PutRow') ?? 0;
      server.failWith({ status: 500, code: 'OTSInternalServerError', message: 'Internal server error.' });
      await rejection(store.put(sampleRecord(2)));
      expect(server.requests.get('PutRow')).to.equal(before + 1);
    });

    it('refuses a payload over the 2 MB column limit as unstorable (413, not 503), storing nothing', async function () {
      const store = await freshStore();
      const record = sampleRecord(3, { payload: JSON.stringify({ EventType: 'big', data: 'x'.repeat(2 * 1024 * 1024) }) });
      const error = await rejection(store.put(record));
      expect(error).to.be.instanceOf(UnstorableEventError);
      expect(error.message).to.contain('OTSParameterInvalid');
      expect(await store.get(record.id)).to.equal(undefined);
    });

    it('refuses, as Tablestore does, an index column over 1 KB (the writer is only ever given capped fields)', async function () {
      const store = await freshStore();
      const record = sampleRecord(4, { processInstanceId: 'p'.repeat(1025) });
      const error = await rejection(store.put(record));
      expect(error).to.be.instanceOf(UnstorableEventError);
      expect(error.message).to.contain('OTSParameterInvalid');
    });

    it('lists across pages when the records are over the 4 MB a range read returns', async function () {
      const store = await freshStore();
      const payload = JSON.stringify({ EventType: 'attendance_check_record', DataList: '考勤'.repeat(300_000) }); // ~1.8 MB
      // Three rows of ~1.8 MB: the first range read holds two, the third needs another.
      for (let n = 0; n < 3; n++) await store.put(sampleRecord(n, { eventType: 'attendance_check_record', payload }));
      const records = (await store.list({ eventType: 'attendance_check_record' })).records;
      expect(records.map((record) => record.eventId)).to.deep.equal(['evt-000002', 'evt-000001', 'evt-000000']);
      expect(records.every((record) => record.payload === payload)).to.equal(true);
      expect(server.requests.get('GetRange')).to.be.greaterThan(1);
    });

    it('lists an approval instance by type when given both', async function () {
      const store = await freshStore();
      await store.put(sampleRecord(1, { eventType: 'bpms_task_change', processInstanceId: 'p' }));
      await store.put(sampleRecord(2, { eventType: 'bpms_instance_change', processInstanceId: 'p' }));
      await store.put(sampleRecord(3, { eventType: 'bpms_task_change', processInstanceId: 'q' }));
      await store.put(sampleRecord(4, { eventType: 'bpms_task_change', processInstanceId: 'p' }));
      const records = (await store.list({ processInstanceId: 'p', eventType: 'bpms_task_change' })).records;
      expect(records.map((record) => record.eventId)).to.deep.equal(['evt-000004', 'evt-000001']);
    });
  });

  describe('ensureEventTable', function () {
    it('creates the table and its three indexes once, then changes nothing', async function () {
      expect(await ensureEventTable(client, 'provisioned')).to.equal('created');
      expect(await ensureEventTable(client, 'provisioned')).to.equal('unchanged');
      const { tableMeta, indexMetas } = await client.describeTable({ tableName: 'provisioned' });
      expect(tableMeta.primaryKey.map((column) => column.name)).to.deep.equal(['id']);
      expect(indexMetas.map((index) => index.name)).to.deep.equal(['provisioned_by_type', 'provisioned_by_instance', 'provisioned_by_time']);
      expect((await client.listTable({})).tableNames.filter((name) => name.startsWith('provisioned'))).to.deep.equal(['provisioned']);
    });

    it('adds a missing index to an existing table and builds it from the rows already there', async function () {
      const [byType, ...others] = eventIndexes('older');
      await client.createTable({
        tableMeta: { tableName: 'older', primaryKey: [{ name: 'id', type: TableStore.PrimaryKeyType.STRING }], definedColumn: (await describeColumns()) },
        reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
        tableOptions: { timeToLive: -1, maxVersions: 1 },
        indexMetas: others,
      });
      const store = new TablestoreEventStore({ tableName: 'older', client });
      await store.put(sampleRecord(7, { eventType: 'user_add_org' }));
      expect(await ensureEventTable(client, 'older')).to.equal('updated');
      expect((await client.describeTable({ tableName: 'older' })).indexMetas.map((index) => index.name)).to.include(byType!.name);
      expect((await store.list({ eventType: 'user_add_org' })).records.map((record) => record.eventId)).to.deep.equal(['evt-000007']);
    });

    it('refuses to touch a table keyed on something else', async function () {
      await client.createTable({
        tableMeta: { tableName: 'foreign', primaryKey: [{ name: 'id', type: TableStore.PrimaryKeyType.INTEGER }] },
        reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
        tableOptions: { timeToLive: -1, maxVersions: 1 },
      });
      expect((await rejection(ensureEventTable(client, 'foreign'))).message).to.contain('another primary key');
    });

    /** The predefined columns of a table made by ensureEventTable. */
    async function describeColumns() {
      await ensureEventTable(client, 'template');
      return (await client.describeTable({ tableName: 'template' })).tableMeta.definedColumn;
    }
  });

  describe('the local server', function () {
    it('refuses requests without the signature headers', async function () {
      const response = await fetch(`${server.endpoint}/ListTable`, { method: 'POST', body: new Uint8Array() });
      expect(response.status).to.equal(400);
      expect(Buffer.from(await response.arrayBuffer()).toString()).to.contain('Missing header');
    });

    it('refuses a wrong secret, a wrong instance and an unknown key, as OTSAuthFailed', async function () {
      for (const options of [{ secretAccessKey: 'wrong' }, { instance: 'another' }, { accessKeyId: 'LTAI-unknown' }]) {
        const error = await rejection(createTablestoreClient({ ...server.clientOptions, ...options }).listTable({}));
        expect(otsCode(error)).to.equal('OTSAuthFailed');
        expect((error as Error & { code: unknown }).code).to.equal(403);
      }
    });

    it('checks the STS token of temporary keys', async function () {
      const sts = await startTablestoreServer({ credentials: [{ accessKeyId: 'STS.key', secretAccessKey: 'sts-secret', securityToken: 'token-1' }] });
      try {
        expect((await createTablestoreClient(sts.clientOptions).listTable({})).tableNames).to.deep.equal([]);
        const error = await rejection(createTablestoreClient({ ...sts.clientOptions, securityToken: 'token-0' }).listTable({}));
        expect(otsCode(error)).to.equal('OTSAuthFailed');
      } finally {
        await sts.close();
      }
    });

    it('answers a missing table with OTSObjectNotExist and a second CreateTable with OTSObjectAlreadyExist', async function () {
      expect(otsCode(await rejection(client.describeTable({ tableName: 'nowhere' })))).to.equal('OTSObjectNotExist');
      await ensureEventTable(client, 'twice');
      expect(otsCode(await rejection(client.createTable({ tableMeta: { tableName: 'twice', primaryKey: [{ name: 'k', type: 2 }] }, reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 } })))).to.equal('OTSObjectAlreadyExist');
    });
  });
});
