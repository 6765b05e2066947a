import { expect } from 'chai';
import type { EventRecord } from '../core/events';
import { newestFirst, QueryError, type EventQuery, type EventReader, type EventStore } from '../core/listing';

/** A table loaded in bulk, and the backend's own count of the items its reads have read so far. */
export interface MeasuredTable {
  store: EventStore;
  itemsRead: () => number;
}

/** How to make the stores under test. */
export interface StoreFactory {
  /** A store over a fresh, empty table; called before each test. */
  open: () => Promise<EventStore>;
  /** A store of the same kind whose backend cannot be reached (closed port, stopped server). */
  unreachable?: () => EventStore;
  /** A fresh table holding `records`, written in batches, with a real count of the items read (for the cost cases). */
  large?: (records: EventRecord[]) => Promise<MeasuredTable>;
}

/** When the first sample record was received. */
const SAMPLE_EPOCH = Date.UTC(2026, 10, 27, 12, 0, 0);

/** A record with every field set, distinct per `n`, `receivedAt` increasing with `n` (a second apart). */
export function sampleRecord(n: number, overrides: Partial<EventRecord> = {}): EventRecord {
  return {
    id: `ding6ccabc44d2c8d38b:event:bpms_instance_change:evt-${String(n).padStart(6, '0')}`,
    eventId: `evt-${String(n).padStart(6, '0')}`,
    eventType: 'bpms_instance_change',
    ownerKey: 'ding6ccabc44d2c8d38b',
    source: 'push',
    corpId: 'ding6ccabc44d2c8d38b',
    eventTime: 1_700_000_000_000 + n,
    receivedAt: new Date(SAMPLE_EPOCH + n * 1000).toISOString(),
    processInstanceId: `proc-${n % 3}`,
    payload: JSON.stringify({ EventType: 'bpms_instance_change', title: `张三的请假申请 #${n} 🏖️`, n }),
    ...overrides,
  };
}

/**
 * How many records the large table holds, and how far apart they were received: paging through it
 * 1,000 at a time takes two full pages and a part, and it spans four months (~94 days).
 */
const LARGE_TABLE = { count: 2100, apartMs: 65 * 60_000 };

/**
 * The month of the contract's oldest record (the large table's first): a store that walks a
 * listing back month by month (DynamoDB's time index) finds every record of the contract when it
 * stops there, and need not walk on to 2015 at every listing.
 */
export const OLDEST_SAMPLE_MONTH = new Date(SAMPLE_EPOCH - (LARGE_TABLE.count - 1) * LARGE_TABLE.apartMs).toISOString().slice(0, 7);

/** The records of the large table: 2,100 over the ~94 days to the sample epoch (65 minutes apart), four types, 50 approval instances (21 records each). */
export function largeTable(): EventRecord[] {
  const { count, apartMs } = LARGE_TABLE;
  const types = ['user_add_org', 'bpms_instance_change', 'attendance_check_record', 'org_dept_create'];
  const newest = SAMPLE_EPOCH;
  return Array.from({ length: count }, (_, n) => {
    const eventType = types[n % types.length]!;
    return sampleRecord(n, {
      id: `ding6ccabc44d2c8d38b:sha256:${String(n).padStart(64, '0')}`,
      eventType,
      receivedAt: new Date(newest - (count - 1 - n) * apartMs).toISOString(),
      processInstanceId: eventType === 'bpms_instance_change' ? `big-${n % 50}` : undefined,
      payload: JSON.stringify({ EventType: eventType, n }),
    });
  }).map((record) => (record.processInstanceId === undefined ? withoutProcess(record) : record));
}

function withoutProcess({ processInstanceId: _p, ...record }: EventRecord): EventRecord {
  return record;
}

/** The stored record of DingTalk's `eventId`, whatever its owner: identities are ownerKey-scoped, so tests that know only the eventId look it up this way. */
export async function storedByEventId(store: { list: EventReader['list'] }, eventId: string): Promise<EventRecord | undefined> {
  return (await store.list({ limit: 1000 })).records.find((record) => record.eventId === eventId);
}

/**
 * The behaviour every {@link EventStore} shares, run against each implementation with a real
 * backend.
 */
export function describeEventStoreContract(name: string, factory: StoreFactory): void {
  describe(`${name}: the EventStore contract`, function () {
    const subject = {} as { store: EventStore };
    beforeEach(async function () {
      subject.store = await factory.open();
    });

    it('answers created for a new record and gives it back unchanged', async function () {
      const record = sampleRecord(1);
      expect(await subject.store.put(record)).to.equal('created');
      expect(await subject.store.get(record.id)).to.deep.equal(record);
    });

    it('keeps optional fields absent rather than empty', async function () {
      const { eventId: _e, corpId: _c, eventTime: _t, processInstanceId: _p, ...bare } = sampleRecord(2, { eventType: 'check_in' });
      await subject.store.put(bare);
      expect(await subject.store.get(bare.id)).to.deep.equal(bare);
    });

    it('gives a Stream record back with the headers of its frame', async function () {
      const headers = { appId: 'app-1', connectionId: 'c-1', contentType: 'application/json', messageId: 'm-1', topic: '*', eventId: 'evt-s', eventBornTime: '1700000000000', eventCorpId: 'ding6ccabc44d2c8d38b', eventType: 'bpms_instance_change', eventUnifiedAppId: 'u-1', note: '请假 "quoted" 🏖️' };
      const record = sampleRecord(4, { id: 'ding6ccabc44d2c8d38b:event:bpms_instance_change:evt-s', source: 'stream', headers });
      expect(await subject.store.put(record)).to.equal('created');
      expect(await subject.store.get(record.id)).to.deep.equal(record);
      expect((await subject.store.list({ limit: 10 })).records.find((each) => each.id === record.id)).to.deep.equal(record);
    });

    it('answers duplicate for an id already stored and keeps the first record', async function () {
      const first = sampleRecord(3);
      await subject.store.put(first);
      expect(await subject.store.put({ ...first, receivedAt: new Date().toISOString(), payload: '{"EventType":"changed"}' })).to.equal('duplicate');
      expect(await subject.store.get(first.id)).to.deep.equal(first);
    });

    it('gives exactly one created among 30 concurrent puts of one record', async function () {
      const record = sampleRecord(4);
      const outcomes = await Promise.all(Array.from({ length: 30 }, () => subject.store.put({ ...record })));
      expect(outcomes.filter((outcome) => outcome === 'created')).to.have.length(1);
      expect(outcomes.filter((outcome) => outcome === 'duplicate')).to.have.length(29);
    });

    it('answers undefined for an unknown id', async function () {
      expect(await subject.store.get('no-such-event')).to.equal(undefined);
    });

    it('answers undefined, without asking the table, for an id no record can have: empty, or longer than any key (a hostile `events get` or inspector link)', async function () {
      for (const id of ['', 'a'.repeat(3000), '审'.repeat(600)]) expect(await subject.store.get(id), `${id.length} characters`).to.equal(undefined);
    });

    const ids = async (query: EventQuery) => (await subject.store.list(query)).records.map((record) => record.eventId);

    it('lists by type newest first, honouring the limit', async function () {
      for (let n = 10; n < 16; n++) await subject.store.put(sampleRecord(n, { eventType: n % 2 ? 'user_add_org' : 'bpms_instance_change' }));
      expect(await ids({ eventType: 'user_add_org' })).to.deep.equal(['evt-000015', 'evt-000013', 'evt-000011']);
      expect(await ids({ eventType: 'user_add_org', limit: 2 })).to.deep.equal(['evt-000015', 'evt-000013']);
      expect(await subject.store.list({ eventType: 'org_remove' })).to.deep.equal({ records: [] });
    });

    it('lists by process instance newest first, and leaves out records without one', async function () {
      for (let n = 20; n < 26; n++) await subject.store.put(sampleRecord(n));
      const { processInstanceId: _p, ...noInstance } = sampleRecord(26);
      await subject.store.put(noInstance);
      const { records } = await subject.store.list({ processInstanceId: 'proc-1' });
      expect(records.map((record) => record.eventId)).to.deep.equal(['evt-000025', 'evt-000022']);
      expect(records[0]).to.deep.equal(sampleRecord(25));
      expect(await ids({ processInstanceId: 'proc-1', eventType: 'user_add_org' })).to.deep.equal([]);
    });

    it('lists every type newest first when no filter is given', async function () {
      for (let n = 30; n < 34; n++) await subject.store.put(sampleRecord(n, { eventType: `type_${n}` }));
      expect(await ids({ limit: 3 })).to.deep.equal(['evt-000033', 'evt-000032', 'evt-000031']);
    });

    it('orders records received in the same millisecond by id, descending', async function () {
      const receivedAt = sampleRecord(60).receivedAt;
      for (const id of ['c', 'a', 'd', 'b']) await subject.store.put(sampleRecord(60, { id, eventId: id, receivedAt, eventType: 'tie' }));
      await subject.store.put(sampleRecord(59, { id: 'z', eventId: 'z', eventType: 'tie' }));
      expect(await ids({ eventType: 'tie', limit: 2 })).to.deep.equal(['d', 'c']);
      expect(await ids({ limit: 5 })).to.deep.equal(['d', 'c', 'b', 'a', 'z']);
    });

    it('bounds receivedAt by since (inclusive) and until (exclusive), with and without a filter', async function () {
      for (let n = 70; n < 80; n++) await subject.store.put(sampleRecord(n));
      const at = (n: number) => sampleRecord(n).receivedAt;
      expect(await ids({ since: at(77) })).to.deep.equal(['evt-000079', 'evt-000078', 'evt-000077']);
      expect(await ids({ until: at(72) })).to.deep.equal(['evt-000071', 'evt-000070']);
      expect(await ids({ since: at(73), until: at(76) })).to.deep.equal(['evt-000075', 'evt-000074', 'evt-000073']);
      expect(await ids({ since: at(73), until: at(76), eventType: 'bpms_instance_change' })).to.deep.equal(['evt-000075', 'evt-000074', 'evt-000073']);
      expect(await ids({ since: at(70), until: at(80), processInstanceId: 'proc-2' })).to.deep.equal(['evt-000077', 'evt-000074', 'evt-000071']);
      expect(await ids({ since: at(80) })).to.deep.equal([]);
    });

    it('pages with a cursor: each record once, in order, and no cursor after the last page', async function () {
      for (let n = 80; n < 87; n++) await subject.store.put(sampleRecord(n, { eventType: n === 83 ? 'other' : 'bpms_instance_change' }));
      for (const query of [{}, { eventType: 'bpms_instance_change' }, { since: sampleRecord(81).receivedAt }]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await subject.store.list({ ...query, limit: 2, cursor });
          seen.push(...page.records.map((record) => record.eventId!));
          cursor = page.cursor;
          pages += 1;
          expect(page.records.length, 'a full page, but for the last').to.equal(cursor ? 2 : page.records.length);
        } while (cursor);
        const all = await ids({ ...query, limit: 1000 });
        expect(seen).to.deep.equal(all);
        expect(pages).to.equal(Math.ceil(all.length / 2));
      }
      expect(await subject.store.list({ limit: 7 })).to.not.have.property('cursor');
    });

    it('refuses a cursor no listing gave, and a time that is not ISO-8601 UTC', async function () {
      for (const query of [{ cursor: 'not-a-cursor' }, { cursor: Buffer.from('yesterday#x').toString('base64url') }, { since: '2026-11-27' }, { until: 'soon' }]) {
        const failure = await subject.store.list(query).catch((error: unknown) => error);
        expect(failure, JSON.stringify(query)).to.be.instanceOf(QueryError);
      }
    });

    it('lists up to 1,000 records in one page, however many are asked for, and at least one', async function () {
      await Promise.all(Array.from({ length: 55 }, (_, i) => subject.store.put(sampleRecord(100 + i, { eventType: 'org_change' }))));
      const page = await subject.store.list({ eventType: 'org_change', limit: 5000 });
      expect(page.records.map((record) => record.eventId)).to.deep.equal(Array.from({ length: 55 }, (_, i) => sampleRecord(154 - i).eventId));
      expect(page).to.not.have.property('cursor');
      expect((await subject.store.list({ eventType: 'org_change', limit: 0 })).records).to.have.length(1);
    });

    it('keeps a large payload with Chinese text byte for byte', async function () {
      const rows = Array.from({ length: 5000 }, (_, i) => ({ userId: `user${i}`, address: `杭州市余杭区文一西路${i}号`, checkTime: 1_700_000_000_000 + i }));
      const record = sampleRecord(40, { eventType: 'attendance_check_record', payload: JSON.stringify({ EventType: 'attendance_check_record', DataList: rows }) });
      expect(Buffer.byteLength(record.payload)).to.be.greaterThan(400 * 1024);
      expect(await subject.store.put(record)).to.equal('created');
      expect((await subject.store.get(record.id))?.payload).to.equal(record.payload);
      expect((await subject.store.list({ eventType: 'attendance_check_record' })).records[0]?.payload).to.equal(record.payload);
    });

    const { large } = factory;
    if (large) {
      describe('over a table of 2,100 records: each listing reads about its page, counted by the backend', function () {
        const records = largeTable();
        const newest = [...records].sort(newestFirst);
        let table: MeasuredTable;
        before(async function () {
          this.timeout(120_000);
          table = await large(records);
        });
        const measured = async (query: EventQuery) => {
          const before = table.itemsRead();
          const page = await table.store.list(query);
          return { page, ids: page.records.map((record) => record.id), read: table.itemsRead() - before };
        };
        const expected = (filter: (record: EventRecord) => boolean, count: number) => newest.filter(filter).slice(0, count).map((record) => record.id);

        for (const [what, query, filter] of [
          ['of any type', {}, () => true],
          ['of one type', { eventType: 'user_add_org' }, (record: EventRecord) => record.eventType === 'user_add_org'],
          ['of one approval instance', { processInstanceId: 'big-7' }, (record: EventRecord) => record.processInstanceId === 'big-7'],
          ['since a time', { since: newest[500]!.receivedAt }, (record: EventRecord) => record.receivedAt >= newest[500]!.receivedAt],
          ['until a time, months back', { until: newest[1750]!.receivedAt }, (record: EventRecord) => record.receivedAt < newest[1750]!.receivedAt],
        ] as Array<[string, EventQuery, (record: EventRecord) => boolean]>) {
          it(`lists the newest 20 ${what}, reading at most 3 items a record`, async function () {
            const { ids, read, page } = await measured({ ...query, limit: 20 });
            expect(ids).to.deep.equal(expected(filter, 20));
            expect(page.cursor).to.be.a('string');
            expect(read).to.be.within(20, 60);
          });
        }

        it('pages through all 2,100, 1,000 at a time, each record once and in order, reading at most 3 items a record', async function () {
          const seen: string[] = [];
          let cursor: string | undefined;
          let read = 0;
          do {
            const step = await measured({ limit: 1000, cursor });
            seen.push(...step.ids);
            read += step.read;
            cursor = step.page.cursor;
          } while (cursor);
          expect(seen).to.deep.equal(newest.map((record) => record.id));
          expect(read).to.be.at.most(3 * records.length);
        });

        it('continues a filtered listing from its cursor', async function () {
          const first = await measured({ eventType: 'org_dept_create', since: newest[1000]!.receivedAt, limit: 100 });
          const second = await measured({ eventType: 'org_dept_create', since: newest[1000]!.receivedAt, limit: 1000, cursor: first.page.cursor });
          expect([...first.ids, ...second.ids]).to.deep.equal(expected((record) => record.eventType === 'org_dept_create' && record.receivedAt >= newest[1000]!.receivedAt, 1000));
          expect(second.page).to.not.have.property('cursor');
        });
      });
    }

    const { unreachable } = factory;
    if (unreachable) {
      it('throws, rather than answering, when its backend cannot be reached', async function () {
        for (const call of [(store: EventStore) => store.put(sampleRecord(50)), (store: EventStore) => store.get('evt'), (store: EventStore) => store.list()]) {
          let failure: unknown;
          await call(unreachable()).catch((error: unknown) => (failure = error));
          expect(failure).to.be.instanceOf(Error);
        }
      });
    }
  });
}
