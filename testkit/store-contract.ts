import { expect } from 'chai';
import type { EventRecord } from '../core/events';
import type { EventStore } from '../core/listing';

/** How to make the stores under test. */
export interface StoreFactory {
  /** A store over a fresh, empty table; called before each test. */
  open: () => Promise<EventStore>;
  /** A store of the same kind whose backend cannot be reached (closed port, stopped server). */
  unreachable?: () => EventStore;
}

/** A record with every field set, distinct per `n`, `receivedAt` increasing with `n`. */
export function sampleRecord(n: number, overrides: Partial<EventRecord> = {}): EventRecord {
  return {
    id: `ding6ccabc44d2c8d38b:event:bpms_instance_change:evt-${String(n).padStart(6, '0')}`,
    eventId: `evt-${String(n).padStart(6, '0')}`,
    eventType: 'bpms_instance_change',
    ownerKey: 'ding6ccabc44d2c8d38b',
    source: 'push',
    corpId: 'ding6ccabc44d2c8d38b',
    eventTime: 1_700_000_000_000 + n,
    receivedAt: new Date(Date.UTC(2026, 10, 27, 12, 0, 0) + n * 1000).toISOString(),
    processInstanceId: `proc-${n % 3}`,
    payload: JSON.stringify({ EventType: 'bpms_instance_change', title: `张三的请假申请 #${n} 🏖️`, n }),
    ...overrides,
  };
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

    it('lists by type newest first, honouring the limit', async function () {
      for (let n = 10; n < 16; n++) await subject.store.put(sampleRecord(n, { eventType: n % 2 ? 'user_add_org' : 'bpms_instance_change' }));
      const users = await subject.store.list({ eventType: 'user_add_org' });
      expect(users.map((record) => record.eventId)).to.deep.equal(['evt-000015', 'evt-000013', 'evt-000011']);
      expect((await subject.store.list({ eventType: 'user_add_org', limit: 2 })).map((record) => record.eventId)).to.deep.equal(['evt-000015', 'evt-000013']);
      expect(await subject.store.list({ eventType: 'org_remove' })).to.deep.equal([]);
    });

    it('lists by process instance newest first, and leaves out records without one', async function () {
      for (let n = 20; n < 26; n++) await subject.store.put(sampleRecord(n));
      const { processInstanceId: _p, ...noInstance } = sampleRecord(26);
      await subject.store.put(noInstance);
      const records = await subject.store.list({ processInstanceId: 'proc-1' });
      expect(records.map((record) => record.eventId)).to.deep.equal(['evt-000025', 'evt-000022']);
      expect(records[0]).to.deep.equal(sampleRecord(25));
    });

    it('lists every type newest first when no filter is given', async function () {
      for (let n = 30; n < 34; n++) await subject.store.put(sampleRecord(n, { eventType: `type_${n}` }));
      expect((await subject.store.list({ limit: 3 })).map((record) => record.eventId)).to.deep.equal(['evt-000033', 'evt-000032', 'evt-000031']);
    });

    it('lists at most 50 records, however many are asked for', async function () {
      await Promise.all(Array.from({ length: 55 }, (_, i) => subject.store.put(sampleRecord(100 + i, { eventType: 'org_change' }))));
      const records = await subject.store.list({ eventType: 'org_change', limit: 1000 });
      expect(records.map((record) => record.eventId)).to.deep.equal(Array.from({ length: 50 }, (_, i) => sampleRecord(154 - i).eventId));
      expect(await subject.store.list({ eventType: 'org_change', limit: 0 })).to.have.length(1);
    });

    it('keeps a large payload with Chinese text byte for byte', async function () {
      const rows = Array.from({ length: 5000 }, (_, i) => ({ userId: `user${i}`, address: `杭州市余杭区文一西路${i}号`, checkTime: 1_700_000_000_000 + i }));
      const record = sampleRecord(40, { eventType: 'attendance_check_record', payload: JSON.stringify({ EventType: 'attendance_check_record', DataList: rows }) });
      expect(Buffer.byteLength(record.payload)).to.be.greaterThan(400 * 1024);
      expect(await subject.store.put(record)).to.equal('created');
      expect((await subject.store.get(record.id))?.payload).to.equal(record.payload);
      expect((await subject.store.list({ eventType: 'attendance_check_record' }))[0]?.payload).to.equal(record.payload);
    });

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
