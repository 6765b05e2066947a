import { expect } from 'chai';
import { StoreError } from '../../core/errors';
import type { EventRecord } from '../../core/events';
import { PLAIN_PAYLOAD_MAX_BYTES, toItem, type Item } from '../../providers/aws/dynamodb-item';
import { DynamoDbEventStore, OLDEST_MONTH, oldestListedMonth } from '../../providers/aws/dynamodb-store';
import { ensureEventTable } from '../../providers/local/events-table';
import { localDynamoDbClient } from '../../providers/local/local-dynamodb';
import { startTestDynamoDb, type TestDynamoDb } from '../../testkit/dynamodb';
import { startDynamoDbProxy, type DynamoDbProxy } from '../../testkit/dynamodb-proxy';
import { freePort } from '../../testkit/ports';
import { describeEventStoreContract, OLDEST_SAMPLE_MONTH, sampleRecord, type MeasuredTable } from '../../testkit/store-contract';
import { describeSyncRows } from '../../testkit/sync-contract';

describe('providers/aws/dynamodb-store', function () {
  let dynamo: TestDynamoDb;
  /** A proxy that counts the items DynamoDB says each read read. */
  let counting: DynamoDbProxy;
  let closedPort: number;
  let tables = 0;
  before(async function () {
    dynamo = await startTestDynamoDb();
    counting = await startDynamoDbProxy(dynamo.endpoint);
    closedPort = await freePort();
  });
  after(async function () {
    dynamo.client.destroy();
    await counting.close();
    await dynamo.server.close();
  });

  /** A fresh table, made from the definition in serverless.aws.yml. */
  async function freshStore(): Promise<DynamoDbEventStore> {
    const tableName = `events-${++tables}`;
    await ensureEventTable(dynamo.client, tableName);
    // The contract's records are dated before this table was made, as records copied in are: listings
    // walk back to the month of the oldest (not to 2015, a query per month at every listing).
    return new DynamoDbEventStore({ tableName, client: dynamo.client, oldestMonth: OLDEST_SAMPLE_MONTH });
  }

  /** A fresh table holding `records`, written 25 to a BatchWriteItem, read through the counting proxy. */
  async function largeTable(records: EventRecord[]): Promise<MeasuredTable> {
    const tableName = `events-${++tables}`;
    await ensureEventTable(dynamo.client, tableName);
    const batches = Array.from({ length: Math.ceil(records.length / 25) }, (_, i) => records.slice(i * 25, i * 25 + 25));
    for (let i = 0; i < batches.length; i += 8) {
      await Promise.all(
        batches.slice(i, i + 8).map(async (batch) => {
          const requests = await Promise.all(batch.map(async (record) => ({ PutRequest: { Item: await toItem(record) } })));
          const { UnprocessedItems } = await dynamo.client.call<{ UnprocessedItems?: Record<string, unknown[]> }>('BatchWriteItem', { RequestItems: { [tableName]: requests } });
          expect(UnprocessedItems?.[tableName] ?? []).to.deep.equal([]);
        }),
      );
    }
    return { store: new DynamoDbEventStore({ tableName, client: localDynamoDbClient(counting.endpoint), oldestMonth: OLDEST_SAMPLE_MONTH }), itemsRead: counting.itemsRead };
  }

  describeEventStoreContract('DynamoDbEventStore on dynalite', {
    open: freshStore,
    large: largeTable,
    unreachable: () => new DynamoDbEventStore({ tableName: 'events', client: localDynamoDbClient(`http://127.0.0.1:${closedPort}`, 1) }),
  });

  describeSyncRows('DynamoDbEventStore on dynalite', async () => ({ store: await freshStore(), close: async () => {} }));

  it('keeps a payload that fits as readable text, and a larger one gzip-compressed', async function () {
    const store = await freshStore();
    const small = sampleRecord(1);
    const large = sampleRecord(2, { payload: JSON.stringify({ EventType: 'attendance_check_record', pad: '钉'.repeat(PLAIN_PAYLOAD_MAX_BYTES / 3 + 1) }) });
    await store.put(small);
    await store.put(large);
    const raw = async (id: string) =>
      (await dynamo.client.call<{ Item?: Item }>('GetItem', { TableName: store.tableName, Key: { id: { S: id } } })).Item ?? {};
    expect((await raw(small.id)).payload?.S).to.equal(small.payload);
    const stored = await raw(large.id);
    expect(stored.payload).to.equal(undefined);
    expect(Buffer.from(String(stored.payloadGzip?.B), 'base64').length).to.be.lessThan(Buffer.byteLength(large.payload) / 10);
    expect(await store.get(large.id)).to.deep.equal(large);
  });

  it("answers a store failure with a StoreError that keeps the client's error as its cause", async function () {
    const store = new DynamoDbEventStore({ tableName: 'no-such-table', client: dynamo.client });
    const failure = await store.put(sampleRecord(1)).catch((error: unknown) => error);
    expect(failure).to.be.instanceOf(StoreError);
    expect((failure as StoreError).status).to.equal(503);
    expect((failure as StoreError).cause).to.have.property('name', 'ResourceNotFoundException');
  });

  it('lists the records of one process instance and one type', async function () {
    const store = await freshStore();
    await store.put(sampleRecord(1, { processInstanceId: 'p', eventType: 'bpms_task_change' }));
    await store.put(sampleRecord(2, { processInstanceId: 'p', eventType: 'bpms_instance_change' }));
    await store.put(sampleRecord(3, { processInstanceId: 'p', eventType: 'bpms_task_change' }));
    const tasks = (await store.list({ processInstanceId: 'p', eventType: 'bpms_task_change', limit: 1 })).records;
    expect(tasks.map((record) => record.eventId)).to.deep.equal(['evt-000003']);
  });

  describe('a listing without since walks the months back to the table’s creation, not to 2015', function () {
    it('lists a fresh table’s record of today with a query per month from a month ahead back to the month before it was made', async function () {
      const tableName = `events-${++tables}`;
      await ensureEventTable(dynamo.client, tableName);
      const store = new DynamoDbEventStore({ tableName, client: localDynamoDbClient(counting.endpoint) });
      const today = sampleRecord(1, { receivedAt: new Date().toISOString() });
      await store.put(today);
      const queries = () => counting.requests.get('Query') ?? 0;
      const before = queries();
      expect((await store.list()).records).to.deep.equal([today]);
      // From next month back to the month of (creation less a day): three months at most, where 2015 was over 140.
      expect(queries() - before).to.be.within(2, 3);
      const describes = counting.requests.get('DescribeTable');
      const again = queries();
      expect((await store.list()).records).to.deep.equal([today]);
      expect(counting.requests.get('DescribeTable'), 'the table is asked once').to.equal(describes);
      expect(queries() - again).to.be.within(2, 3);
    });

    it('walks back to 2015 for a table restored from a backup, or when the table cannot be described', async function () {
      // Seconds since the epoch, as DescribeTable answers in the JSON protocol.
      const made = Date.UTC(2026, 2, 1, 6) / 1000;
      expect(oldestListedMonth({ CreationDateTime: made }), 'the month before: a day of slack').to.equal('2026-02');
      expect(oldestListedMonth({ CreationDateTime: Date.UTC(2026, 2, 15) / 1000 })).to.equal('2026-03');
      expect(oldestListedMonth({ CreationDateTime: made, RestoreSummary: { RestoreDateTime: made, RestoreInProgress: false } })).to.equal(OLDEST_MONTH);
      expect(oldestListedMonth(undefined)).to.equal(OLDEST_MONTH);

      const tableName = `events-${++tables}`;
      await ensureEventTable(dynamo.client, tableName);
      const refusing = await startDynamoDbProxy(dynamo.endpoint);
      try {
        refusing.refuse('DescribeTable');
        const store = new DynamoDbEventStore({ tableName, client: localDynamoDbClient(refusing.endpoint) });
        await store.put(sampleRecord(1, { receivedAt: '2015-01-31T23:59:59.999Z' }));
        expect((await store.list()).records.map((record) => record.receivedAt), 'a role without DescribeTable').to.deep.equal(['2015-01-31T23:59:59.999Z']);
        expect(refusing.requests.get('Query')).to.be.above(140);
      } finally {
        await refusing.close();
      }
    });
  });
});
